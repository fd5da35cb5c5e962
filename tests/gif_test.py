"""Tests for tfvidinterp.report.gif."""

import io

import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from PIL import Image

from tfvidinterp.report import gif

MASK = [0, 1, 1, 0, 1, 0, 0, 1]


def numbered_clip(frames=8, size=16):
    """Frame t is filled with the value 10 * t."""
    values = 10 * np.arange(frames, dtype=np.uint8)
    return np.broadcast_to(
        values[:, None, None, None], (frames, size, size, 3)
    ).copy()


def decode(data):
    image = Image.open(io.BytesIO(data))
    frames = []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")))
    return image, np.stack(frames)


def record(label=2, predicted=2):
    return {
        "original_score": 0.934,
        "predicted_class": predicted,
        "label": label,
        "true_class_score": 0.4,
        "mask": {"freeze_score": 0.12, "reverse_score": 0.551},
    }


class GifTest(tf.test.TestCase, parameterized.TestCase):
    def test_freeze_repeats_the_last_kept_frame(self):
        frozen = gif.freeze_frames(numbered_clip(), MASK)
        self.assertAllEqual(frozen[:, 0, 0, 0] // 10, [0, 0, 0, 3, 3, 5, 6, 6])
        frozen = gif.freeze_frames(numbered_clip(), [1] * 8)
        self.assertAllEqual(frozen[:, 0, 0, 0], [0] * 8)

    def test_overlay_uses_jet_in_rgb_order(self):
        frames = np.zeros((2, 4, 4, 3), np.uint8)
        heatmaps = np.stack([np.zeros((4, 4)), np.ones((4, 4))])
        out = gif.overlay(frames, heatmaps, alpha=0.5)
        # JET: 0 is dark blue, 1 dark red; BGR would swap them.
        self.assertAllEqual(out[0, 0, 0], [0, 0, 64])
        self.assertAllEqual(out[1, 0, 0], [64, 0, 0])

    def test_timeline_colours_cells_by_mask_and_marks_current(self):
        bar = gif.timeline(MASK, current=2, width=40, height=8)
        middle = bar[2, 2::5]  # The centre column of each 5-pixel cell.
        expected = [
            np.array(gif.ON if m else gif.OFF) * gif.OTHER for m in MASK
        ]
        expected[2] = np.array(gif.ON) * gif.CURRENT
        self.assertAllEqual(middle, expected)
        underline = bar[7, :, 0] == 255
        self.assertAllEqual(np.flatnonzero(underline), [10, 11, 12, 13])

    @parameterized.named_parameters(
        ("right", 2, "OS 0.93 FS 0.12 RS 0.55"),
        ("wrong", 1, "OS 0.93 FS 0.12 RS 0.55  true 0.40  pred: c"),
    )
    def test_caption(self, label, text):
        self.assertEqual(gif.caption(record(label), ["a", "b", "c"]), text)

    def test_gif_has_every_frame_and_its_bar_matches_the_mask(self):
        frames, size, scale = 8, 16, 3
        clip = numbered_clip(frames, size)
        heatmaps = np.zeros((frames, size, size))
        rows = gif.row_frames(clip, heatmaps, MASK, ["I3D", "OS"], scale)
        image, decoded = decode(gif.encode(rows, fps=5))
        width = 3 * size * scale + 2 * gif.GAP
        self.assertEqual(image.n_frames, frames)
        self.assertEqual(image.size, (width, rows.shape[1]))
        self.assertEqual(image.info["loop"], 0)
        self.assertEqual(image.info["duration"], 200)
        bar_y = size * scale + gif.GAP + 2
        panel = width - size * scale
        edges = gif.cell_edges(frames, size * scale)
        centres = panel + (edges[:-1] + edges[1:]) // 2
        for t, frame in enumerate(decoded):
            cells = frame[bar_y, centres].astype(int)
            red = (cells[:, 0] > 100) & (cells[:, 1] < 60)
            green = (cells[:, 1] > 100) & (cells[:, 0] < 60)
            self.assertAllEqual(red, np.array(MASK, bool))
            self.assertAllEqual(green, ~np.array(MASK, bool))
            self.assertEqual(np.argmax(cells.max(axis=1)), t)
            # The third panel shows the frozen clip.
            frozen = gif.freeze_frames(clip, MASK)[t, 0, 0, 0]
            self.assertAllClose(frame[5, panel + 5], [frozen] * 3, atol=4)

    def test_rows_stack_and_a_shorter_clip_holds_its_last_frame(self):
        a = np.zeros((4, 10, 30, 3), np.uint8)
        b = np.full((2, 6, 20, 3), 200, np.uint8)
        b[1] = 100
        stacked = gif.stack_rows([a, b])
        self.assertEqual(stacked.shape, (4, 10 + gif.GAP + 6, 30, 3))
        self.assertAllEqual(stacked[:, -1, 0, 0], [200, 100, 100, 100])


if __name__ == "__main__":
    tf.test.main()
