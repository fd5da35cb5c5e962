"""Tests for tfvidinterp.data.video_ops."""

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp import errors
from tfvidinterp.data import video_ops


def _video(frames, height, width):
    """Pixel value = 1000 * t + 10 * y + x, so a crop shows its offset."""
    t, y, x = np.meshgrid(
        np.arange(frames), np.arange(height), np.arange(width), indexing="ij"
    )
    return (1000 * t + 10 * y + x)[..., None].astype(np.float32)


class VideoOpsTest(tf.test.TestCase, parameterized.TestCase):
    def _both_ways(self, fn, *tensors):
        """Runs `fn` eagerly and in `Dataset.map`; checks both agree."""
        eager = tf.nest.map_structure(np.asarray, fn(*tensors))
        dataset = tf.data.Dataset.from_tensors(tensors).map(fn)
        mapped = tf.nest.map_structure(np.asarray, dataset.get_single_element())
        tf.nest.map_structure(self.assertAllEqual, eager, mapped)
        return eager

    @parameterized.parameters(
        (48, 16, list(range(1, 48, 3))),
        (16, 16, list(range(16))),
        (10, 4, [1, 3, 6, 8]),
        (4, 8, [0, 0, 1, 1, 2, 2, 3, 3]),
        (1, 4, [0, 0, 0, 0]),
    )
    def test_uniform_sampling_known_answers(self, stored, frames, expected):
        indices = self._both_ways(
            lambda n: video_ops.sample_indices(n, frames), tf.constant(stored)
        )
        self.assertEqual(indices.dtype, np.int32)
        self.assertAllEqual(indices, expected)

    @parameterized.parameters((48, 16), (17, 4), (5, 8))
    def test_segment_sampling_one_index_per_segment(self, stored, frames):
        self._both_ways(
            lambda n, s: video_ops.sample_indices(n, frames, "segment", s),
            tf.constant(stored),
            tf.constant([3, 0]),
        )
        low = np.arange(frames) * stored // frames
        high = np.maximum((np.arange(frames) + 1) * stored // frames, low + 1)
        draws = [video_ops.sample_indices(stored, frames, "segment")]
        for seed in range(20):
            seed = tf.constant([seed, 0])
            draws.append(
                video_ops.sample_indices(stored, frames, "segment", seed)
            )
        for indices in draws:
            self.assertTrue(np.all((indices >= low) & (indices < high)))
        if stored >= 2 * frames:
            self.assertGreater(len({tuple(d.numpy()) for d in draws}), 10)

    def test_unknown_sampling_raises(self):
        with self.assertRaisesRegex(errors.InputError, "Unknown sampling"):
            video_ops.sample_indices(16, 8, "random")

    @parameterized.parameters(
        (16, (16, 24)),
        ((16, 16), (16, 24)),
        ((20, 40), (27, 40)),
        ((32, 48), (32, 48)),
    )
    def test_resize_short_side_covers_size(self, size, expected):
        video = np.full((4, 32, 48, 3), 7, np.uint8)
        resized = self._both_ways(
            lambda v: video_ops.resize_short_side(v, size), video
        )
        self.assertEqual(resized.shape, (4, *expected, 3))
        self.assertEqual(resized.dtype, np.float32)
        self.assertAllClose(resized, np.full_like(resized, 7.0))

    def test_resize_to_same_size_is_exact(self):
        video = _video(2, 16, 16)
        resized = self._both_ways(
            lambda v: video_ops.resize_short_side(v, 16), video
        )
        self.assertAllEqual(resized, video)

    @parameterized.parameters(
        # (frame, new size, extent, resized whole with ResizeBilinear)
        ((256, 341), (224, 298), None, True),
        ((224, 299), (224, 299), None, False),  # Not resized: cropped.
        ((256, 341), (112, 149), None, False),  # Scale < 1/2: triangle.
        ((128, 171), (112, 149), (128.0, 170.5), False),  # crop_and_resize
        ((128, 171), (112, 150), (128.0, 171.0), True),
    )
    def test_resizes_whole_frames(self, frame, new_size, extent, whole):
        if extent is not None:
            extent = tf.constant(extent)
        self.assertEqual(
            bool(video_ops.resizes_whole_frames(frame, new_size, extent)),
            whole,
        )

    def test_center_crop_takes_the_middle(self):
        cropped = self._both_ways(
            lambda v: video_ops.center_crop(v, (4, 2)), _video(2, 7, 8)
        )
        self.assertEqual(cropped.shape, (2, 4, 2, 1))
        expected = [[1013, 1014], [1023, 1024], [1033, 1034], [1043, 1044]]
        self.assertAllEqual(cropped[1, :, :, 0], expected)

    def test_random_crop_is_the_same_for_every_frame(self):
        video = _video(4, 6, 9)
        self._both_ways(
            lambda v, s: video_ops.random_crop(v, 3, s),
            video,
            tf.constant([0, 1]),
        )
        offsets = set()
        for seed in range(20):
            cropped = video_ops.random_crop(video, 3, tf.constant([seed, 1]))
            self.assertEqual(cropped.shape, (4, 3, 3, 1))
            steps = 1000 * np.arange(4)[:, None, None, None]
            self.assertAllEqual(cropped - cropped[:1], steps + 0 * cropped)
            y, x = divmod(int(cropped[0, 0, 0, 0]), 10)
            self.assertTrue(0 <= y <= 3 and 0 <= x <= 6)
            offsets.add((y, x))
        self.assertGreater(len(offsets), 5)

    def test_crop_larger_than_frame_fails(self):
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "larger"):
            video_ops.center_crop(_video(1, 8, 8), 9)

    def test_crop_boxes_hand_computed(self):
        boxes = np.array(
            [[[0.25, 0.25, 0.5, 0.5], [0.0, 0.0, 0.1, 0.1], [0, 0, 0, 0]]],
            np.float32,
        )
        valid = np.array([[True, True, False]])
        cropped, cropped_valid = self._both_ways(
            lambda b, v: video_ops.crop_boxes(b, v, (64, 64), (8, 24), 32),
            boxes,
            valid,
        )
        # Pixels 16..32 in a crop starting at y=8, x=24 of size 32.
        self.assertAllClose(cropped[0, 0], [0.25, 0.0, 0.75, 0.25])
        self.assertAllEqual(cropped[0, 1:], np.zeros((2, 4)))
        self.assertAllEqual(cropped_valid, [[True, False, False]])

    def test_crop_boxes_follow_pixels(self):
        video = np.zeros((1, 40, 60, 1), np.float32)
        video[0, 10:20, 30:45] = 1.0
        boxes = np.array([[[10 / 40, 30 / 60, 20 / 40, 45 / 60]]], np.float32)
        offset = tf.constant([5, 20])
        cropped = video_ops.crop(video, offset, 24).numpy()
        box, _ = video_ops.crop_boxes(boxes, [[True]], (40, 60), offset, 24)
        ys, xs = np.nonzero(cropped[0, ..., 0])
        expected = [ys.min(), xs.min(), ys.max() + 1, xs.max() + 1]
        self.assertAllClose(box[0, 0] * 24, expected)

    def test_flip_left_right(self):
        video = _video(2, 3, 4)
        flipped = self._both_ways(video_ops.flip_left_right, video)
        self.assertAllEqual(flipped, video[:, :, ::-1])
        boxes = np.array([[[0.1, 0.2, 0.3, 0.5], [0, 0, 0, 0]]], np.float32)
        mirrored = self._both_ways(
            video_ops.flip_boxes_left_right, boxes, np.array([[True, False]])
        )
        self.assertAllClose(mirrored, [[[0.1, 0.5, 0.3, 0.8], [0, 0, 0, 0]]])


if __name__ == "__main__":
    tf.test.main()
