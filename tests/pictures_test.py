"""Tests for tfvidinterp.report.pictures (`save_explanation`)."""

import os

import av
import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from PIL import Image

from tfvidinterp import errors
from tfvidinterp import report
from tfvidinterp.report import pictures

T, H, W = 5, 12, 15  # An odd width: the MP4 pads it to 16.
MASK = [0.0, 1.0, 0.5, 0.25, 0.75]


def clip():
    frames = np.full((T, H, W, 3), 100, np.uint8)
    frames[:, :, :, 1] = 10 * np.arange(T)[:, None, None]
    heatmaps = np.tile(np.linspace(0, 1, W, dtype=np.float32), (T, H, 1))
    heatmaps[0] = 0  # Frame 0 shows unchanged.
    heatmaps[1] = 1
    return frames, heatmaps


class PicturesTest(tf.test.TestCase, parameterized.TestCase):
    def test_blend_leaves_zero_maps_and_colours_ones(self):
        frames, heatmaps = clip()
        blended = pictures.blend(frames, heatmaps, alpha=0.5)
        self.assertAllEqual(blended[0], frames[0])
        # JET at 1 is RGB (128, 0, 0): half of it plus half of (100, 10, 100).
        self.assertAllEqual(blended[1, 3, 4], [114, 5, 50])
        small = pictures.blend(frames, heatmaps[:, :3, :4], alpha=0.5)
        self.assertEqual(small.shape, frames.shape)
        self.assertAllEqual(small[0], frames[0])

    def test_mask_bars(self):
        bars = pictures.mask_bars(MASK, width=10, height=8, current=2)
        # Cell t is column 2 t; bars rise round(value * 5) rows.
        heights = [(bars[:5, 2 * t].sum(axis=1) > 0).sum() for t in range(T)]
        self.assertEqual(heights, [0, 5, 2, 1, 4])
        self.assertAllEqual(bars[4, 2], [255, 0, 0])
        self.assertAllEqual(bars[4, 6], [0, 200, 0])
        self.assertAllEqual(bars[6:, 4], np.full((2, 3), 255))
        self.assertEqual(bars[6:].sum(), 2 * 3 * 255)
        self.assertEqual(bars[:, 1::2].sum(), 0)  # 1 px between cells.

    def test_files_decode_back(self):
        frames, heatmaps = clip()
        prefix = os.path.join(self.get_temp_dir(), "figures", "clip")
        written = report.save_explanation(
            prefix, frames, heatmaps, MASK, strip_frames=3
        )
        self.assertEqual(
            written, {f: f"{prefix}.{f}" for f in ("gif", "mp4", "png")}
        )
        rows = H + pictures.GAP + 8  # Bars: max(8, H // 4) rows.
        with Image.open(written["gif"]) as image:
            self.assertEqual((image.n_frames, image.size), (T, (W, rows)))
        with av.open(written["mp4"]) as container:
            decoded = [
                f.to_ndarray(format="rgb24") for f in container.decode(video=0)
            ]
        self.assertLen(decoded, T)
        self.assertEqual(decoded[0].shape[:2], (rows, W + 1))
        # H.264 is lossy; frame 0 (map 0) is near the original.
        error = np.abs(decoded[0][:H, :W].astype(int) - frames[0])
        self.assertLess(error.mean(), 8)
        with Image.open(written["png"]) as image:
            strip = np.asarray(image.convert("RGB"))
        self.assertEqual(strip.shape, (rows, 3 * W + 2 * pictures.GAP, 3))
        # Tiles of frames 0, 2, 4; frame 0's map is 0.
        self.assertAllEqual(strip[:H, :W], frames[0])
        blended = pictures.blend(frames, heatmaps)
        self.assertAllEqual(strip[:H, W + 2 : 2 * W + 2], blended[2])
        self.assertAllEqual(
            strip[H + pictures.GAP :],
            pictures.mask_bars(MASK, 3 * W + 4, 8),
        )
        only = report.save_explanation(
            prefix + "2", frames, heatmaps, MASK, formats=["png"]
        )
        self.assertEqual(list(only), ["png"])
        self.assertFalse(os.path.exists(prefix + "2.gif"))

    @parameterized.named_parameters(
        ("float_frames", dict(frames=np.zeros((T, H, W, 3))), "uint8 RGB"),
        ("short_maps", dict(heatmaps=np.zeros((T - 1, H, W))), "for the 5"),
        ("long_mask", dict(mask=[0.0] * (T + 1)), r"mask must be \(5,\)"),
        ("hot_map", dict(heatmaps=np.full((T, H, W), 1.5)), "heatmaps must"),
        ("nan_mask", dict(mask=[np.nan] * T), r"mask must lie in \[0, 1\]"),
        ("format", dict(formats=("jpg",)), "unknown formats"),
        ("alpha", dict(alpha=2.0), "alpha must lie in"),
        ("fps", dict(fps=0), "fps must be > 0"),
        ("strip", dict(strip_frames=0), "strip_frames must be >= 1"),
    )
    def test_bad_arguments_are_refused(self, change, message):
        frames, heatmaps = clip()
        arguments = dict(frames=frames, heatmaps=heatmaps, mask=MASK)
        arguments.update(change)
        prefix = os.path.join(self.get_temp_dir(), "bad")
        with self.assertRaisesRegex(errors.InputError, message):
            report.save_explanation(prefix, **arguments)
        self.assertEmpty(os.listdir(self.get_temp_dir()))


if __name__ == "__main__":
    tf.test.main()
