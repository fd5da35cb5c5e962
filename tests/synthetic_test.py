"""Tests for tfvidinterp.data.synthetic."""

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp import errors
from tfvidinterp.data import synthetic

_ALL = synthetic.class_names(camera=True)
_OBJECT_LABELS = [(name, _ALL.index(name)) for name in synthetic.CLASSES]
_PAN_LABELS = [(name, _ALL.index(name)) for name in synthetic.PAN_CLASSES]


def _pan_shift(before, after):
    """Integer x shift of the content from `before` to `after` (+ = right)."""
    width = before.shape[1]
    for shift in range(1, width):
        if np.array_equal(after[:, shift:], before[:, : width - shift]):
            return shift
        if np.array_equal(after[:, : width - shift], before[:, shift:]):
            return -shift
    return 0


def _motion(frames, boxes, valid):
    """Names the class that the boxes (or, without boxes, pixels) show."""
    if not valid.any():
        shift = _pan_shift(frames[0], frames[-1])
        return {1: "pan_left", -1: "pan_right"}.get(int(np.sign(shift)))
    shown = np.flatnonzero(valid.any(axis=1))
    centres = (boxes[:, :, :2] + boxes[:, :, 2:]) / 2  # (T, objects, yx)
    first, last = centres[shown[0]], centres[shown[-1]]
    count = int(valid[shown[0]].sum())
    moves = last[:count] - first[:count]
    if count == 2 and moves[0, 1] * moves[1, 1] < 0:
        gap_first = abs(first[1, 1] - first[0, 1])
        gap_last = abs(last[1, 1] - last[0, 1])
        return "approaching" if gap_last < gap_first else "separating"
    dy, dx = moves.mean(axis=0)
    if abs(dx) > abs(dy):
        return "left_to_right" if dx > 0 else "right_to_left"
    return "moving_down" if dy > 0 else "moving_up"


class SyntheticTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("tiny", 4, 16, (16, 16)),
        ("default", 16, 64, (64, 64)),
        ("wide", 8, (24, 40), (24, 40)),
    )
    def test_shapes_and_dtypes(self, frames, size, expected):
        for label in range(len(_ALL)):
            clip = synthetic.generate_clip(
                label, label, frames, size, camera=True
            )
            self.assertEqual(clip.frames.shape, (frames, *expected, 3))
            self.assertEqual(clip.frames.dtype, np.uint8)
            self.assertEqual(clip.boxes.shape, (frames, 2, 4))
            self.assertEqual(clip.boxes.dtype, np.float32)
            self.assertEqual(clip.box_valid.shape, (frames, 2))
            self.assertEqual(clip.box_valid.dtype, bool)
            self.assertEqual(clip.label, label)

    def test_deterministic_from_seed(self):
        first = synthetic.generate_clip(7, 2)
        again = synthetic.generate_clip(7, 2)
        other = synthetic.generate_clip(8, 2)
        self.assertAllEqual(first.frames, again.frames)
        self.assertAllEqual(first.boxes, again.boxes)
        self.assertEqual(first.window, again.window)
        self.assertNotAllEqual(first.frames, other.frames)

    def test_seed_is_one_scene_at_every_size(self):
        # A scene can be drawn at 64x64 and at 32x32 alike.
        for label in range(len(synthetic.CLASSES)):
            small = synthetic.generate_clip(label, label, 16, 32)
            large = synthetic.generate_clip(label, label, 16, 64)
            self.assertEqual(small.window, large.window)
            self.assertAllEqual(small.box_valid, large.box_valid)
            # Pixel rounding: a corner moves by at most 1 pixel of 32.
            self.assertAllClose(small.boxes, large.boxes, atol=1.5 / 32)
            halved = large.frames.reshape(16, 32, 2, 32, 2, 3).mean((2, 4))
            # The same texture and objects: far closer than another seed's.
            other = synthetic.generate_clip(label + 8, label, 16, 32)
            error = np.abs(halved - small.frames).mean()
            self.assertLess(error, 0.3 * np.abs(halved - other.frames).mean())

    @parameterized.parameters((4, 2, 2), (16, 4, 8), (32, 8, 16))
    def test_window_length_scales_with_frames(self, frames, shortest, longest):
        windows = [
            synthetic.generate_clip(seed, seed % 6, frames, 16).window
            for seed in range(60)
        ]
        lengths = [end - start for start, end in windows]
        self.assertEqual(min(lengths), shortest)
        self.assertEqual(max(lengths), longest)
        self.assertTrue(all(0 <= s < e <= frames for s, e in windows))
        if frames > 4:
            starts = {start for start, _ in windows}
            self.assertGreater(len(starts), frames // 4)

    @parameterized.product(
        label=list(range(len(synthetic.CLASSES))),
        background=list(synthetic.BACKGROUNDS),
    )
    def test_objects_only_inside_window_and_boxes(self, label, background):
        for seed in range(10):
            clip = synthetic.generate_clip(
                seed, label, 16, (48, 64), background=background
            )
            start, end = clip.window
            inside = np.zeros(16, bool)
            inside[start:end] = True
            self.assertAllEqual(clip.box_valid.any(axis=1), inside)
            self.assertFalse(clip.boxes[~clip.box_valid].any())
            still = clip.frames[np.flatnonzero(~inside)[0]]
            for t in np.flatnonzero(~inside):
                self.assertAllEqual(clip.frames[t], still)
            for t in range(start, end):
                changed = (clip.frames[t] != still).any(axis=-1)
                in_boxes = np.zeros_like(changed)
                for box in clip.boxes[t][clip.box_valid[t]]:
                    y0, x0, y1, x1 = np.rint(box * [48, 64, 48, 64]).astype(int)
                    self.assertGreater(changed[y0:y1, x0:x1].mean(), 0.3)
                    in_boxes[y0:y1, x0:x1] = True
                self.assertFalse((changed & ~in_boxes).any())

    @parameterized.product(
        label=[label for _, label in _PAN_LABELS],
        background=list(synthetic.BACKGROUNDS),
    )
    def test_pan_shifts_background_and_stays(self, label, background):
        for seed in range(5):
            clip = synthetic.generate_clip(
                seed, label, 16, 64, background=background, camera=True
            )
            start, end = clip.window
            self.assertFalse(clip.box_valid.any())
            for t in range(1, 16):
                moved = start <= t < end
                still = np.array_equal(clip.frames[t], clip.frames[t - 1])
                self.assertEqual(moved, not still)
            shift = _pan_shift(clip.frames[0], clip.frames[-1])
            self.assertBetween(abs(shift), 16, 32)

    @parameterized.named_parameters(*_OBJECT_LABELS, *_PAN_LABELS)
    def test_reversed_clip_has_opposite_class(self, label):
        name = _ALL[label]
        for seed in range(10):
            clip = synthetic.generate_clip(seed, label, camera=True)
            frames, boxes, valid = clip.frames, clip.boxes, clip.box_valid
            self.assertEqual(_motion(frames, boxes, valid), name)
            self.assertEqual(
                _motion(frames[::-1], boxes[::-1], valid[::-1]),
                synthetic.OPPOSITE[name],
            )

    @parameterized.parameters(("left_to_right", 1), ("moving_down", 0))
    def test_objects_travel_far(self, name, axis):
        for seed in range(20):
            clip = synthetic.generate_clip(seed, synthetic.CLASSES.index(name))
            start, end = clip.window
            travel = clip.boxes[end - 1, :, axis] - clip.boxes[start, :, axis]
            self.assertTrue((travel[clip.box_valid[start]] >= 0.35).all())

    def test_smooth_background_is_faint_and_objects_stand_out(self):
        # The default look: no part of the background can pass for an
        # object (the first version's blob texture could).
        for seed in range(12):
            clip = synthetic.generate_clip(seed, seed % 6)
            start, end = clip.window
            still = clip.frames[end % 16 if end < 16 else start - 1]
            grey = still.astype(np.float32)
            self.assertLess(grey.std(axis=(0, 1)).max(), 12.0)
            moving = clip.frames[start].astype(np.float32)
            changed = np.abs(moving - grey).max(-1) > 0
            contrast = np.abs(moving - grey).max(-1)[changed].mean()
            self.assertGreater(contrast, 60.0)
        texture = synthetic.generate_clip(0, 0, background="texture").frames
        self.assertGreater(texture[0].astype(np.float32).std(), 15.0)

    def test_class_names(self):
        self.assertLen(synthetic.class_names(), 6)
        self.assertEqual(synthetic.class_names(), synthetic.CLASSES)
        self.assertEqual(
            synthetic.class_names(camera=True)[6:], synthetic.PAN_CLASSES
        )

    def test_opposite_pairs_classes(self):
        self.assertEqual(set(synthetic.OPPOSITE), set(_ALL))
        for name, opposite in synthetic.OPPOSITE.items():
            self.assertNotEqual(name, opposite)
            self.assertEqual(synthetic.OPPOSITE[opposite], name)
            self.assertEqual(
                name in synthetic.PAN_CLASSES, opposite in synthetic.PAN_CLASSES
            )

    @parameterized.named_parameters(
        ("label", dict(label=6), "Unknown synthetic label 6"),
        ("pan_without_camera", dict(label=7), "Unknown synthetic label 7"),
        (
            "background",
            dict(background="plaid"),
            "Unknown synthetic background 'plaid'",
        ),
        ("frames", dict(num_frames=3), "num_frames must be >= 4"),
        ("size", dict(image_size=(64, 15)), "image_size must be >= 16"),
    )
    def test_bad_arguments_raise(self, kwargs, message):
        kwargs = {"seed": 0, "label": 0, **kwargs}
        with self.assertRaisesRegex(errors.InputError, message):
            synthetic.generate_clip(**kwargs)


if __name__ == "__main__":
    tf.test.main()
