"""Tests for tfvidinterp.data.video_io on videos encoded by PyAV."""

import os

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp import errors
from tfvidinterp.data import video_io


def ramp(num_frames=10, height=24, width=32):
    """Grey frames whose level is 20 * frame index: the index can be read."""
    levels = 20 * np.arange(num_frames, dtype=np.uint8)
    return np.broadcast_to(
        levels[:, None, None, None], (num_frames, height, width, 3)
    ).copy()


class DecodeTest(tf.test.TestCase, parameterized.TestCase):
    def path(self, name):
        return os.path.join(self.get_temp_dir(), name)

    @parameterized.named_parameters(
        ("vp9_webm", "clip.webm", None),
        ("mpeg4_avi", "clip.avi", None),
        ("mjpeg_avi", "mjpeg.avi", "mjpeg"),
        ("h264_mp4", "clip.mp4", None),
    )
    def test_round_trip_keeps_count_size_and_colours(self, name, codec):
        frames = np.zeros((6, 24, 32, 3), np.uint8)
        frames[:3, ..., 0] = 200  # Three red frames, then three blue.
        frames[3:, ..., 2] = 200
        video_io.encode(self.path(name), frames, codec=codec)
        decoded = video_io.decode(self.path(name))
        self.assertEqual(decoded.shape, (6, 24, 32, 3))
        self.assertEqual(decoded.dtype, np.uint8)
        means = decoded.mean(axis=(1, 2))
        self.assertAllClose(means, frames.mean(axis=(1, 2)), atol=12)

    def test_max_frames_takes_segment_middles(self):
        video_io.encode(self.path("ramp.avi"), ramp(), codec="ffv1")
        decoded = video_io.decode(self.path("ramp.avi"), max_frames=4)
        # Segments of 2.5 frames: middles at 1.25, 3.75, 6.25, 8.75.
        self.assertAllClose(decoded[:, 0, 0, 0], [20, 60, 120, 160], atol=1)

    def test_max_frames_above_length_keeps_all(self):
        video_io.encode(self.path("ramp.avi"), ramp(5), codec="ffv1")
        decoded = video_io.decode(self.path("ramp.avi"), max_frames=8)
        self.assertAllClose(decoded[:, 0, 0, 0], [0, 20, 40, 60, 80], atol=1)

    def test_grayscale_becomes_rgb(self):
        frames = ramp(4)[..., 0]
        video_io.encode(self.path("gray.mkv"), frames)
        decoded = video_io.decode(self.path("gray.mkv"))
        self.assertEqual(decoded.shape, (4, 24, 32, 3))
        expected = np.repeat(frames[:, 5, 5, None], 3, axis=1)
        self.assertAllClose(decoded[:, 5, 5], expected, atol=2)

    def test_odd_size_and_short_side(self):
        frames = np.full((3, 37, 45, 3), 90, np.uint8)
        video_io.encode(self.path("odd.webm"), frames)
        full = video_io.decode(self.path("odd.webm"))
        self.assertEqual(full.shape, (3, 37, 45, 3))
        small = video_io.decode(self.path("odd.webm"), short_side=16)
        self.assertEqual(small.shape, (3, 16, 19, 3))  # 45 * 16 / 37 = 19.5.

    def test_random_bytes_are_rejected(self):
        with open(self.path("noise.webm"), "wb") as f:
            f.write(np.random.default_rng(0).bytes(4000))
        with self.assertRaisesRegex(video_io.DecodeError, "not a readable"):
            video_io.decode(self.path("noise.webm"))

    def test_truncated_webm_is_rejected(self):
        rng = np.random.default_rng(0)
        frames = rng.integers(0, 255, (12, 32, 32, 3), np.uint8)
        video_io.encode(self.path("full.webm"), frames)
        with open(self.path("full.webm"), "rb") as f:
            data = f.read()
        with open(self.path("cut.webm"), "wb") as f:
            f.write(data[: len(data) // 2])
        with self.assertRaisesRegex(video_io.DecodeError, "truncated .*ended"):
            video_io.decode(self.path("cut.webm"))
        self.assertLen(video_io.decode(self.path("full.webm")), 12)

    def test_zero_frames_and_missing_file(self):
        no_frames = np.zeros((0, 16, 16, 3), np.uint8)
        video_io.encode(self.path("empty.avi"), no_frames)
        with self.assertRaisesRegex(errors.InputError, "has no frames"):
            video_io.decode(self.path("empty.avi"))
        with self.assertRaisesRegex(errors.InputError, "nope.mp4: no such"):
            video_io.decode(self.path("nope.mp4"))

    def test_encode_needs_a_known_extension(self):
        with self.assertRaisesRegex(errors.InputError, "No default codec"):
            video_io.encode(self.path("a.xyz"), ramp(2))


class FrameOpsTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("shrink_landscape", (2, 24, 32, 3), 12, (2, 12, 16, 3)),
        ("grow_portrait", (1, 30, 20, 3), 40, (1, 60, 40, 3)),
        ("single_frame", (24, 32, 3), 12, (12, 16, 3)),
        ("already_there", (2, 16, 20, 3), 16, (2, 16, 20, 3)),
    )
    def test_resize_short_side_keeps_aspect(self, shape, side, expected):
        frames = np.full(shape, 77, np.uint8)
        resized = video_io.resize_short_side(frames, side)
        self.assertEqual(resized.shape, expected)
        self.assertAllEqual(np.unique(resized), [77])

    def test_spread_indices(self):
        self.assertAllEqual(video_io.spread_indices(10, 4), [1, 3, 6, 8])
        self.assertAllEqual(video_io.spread_indices(8, 4), [1, 3, 5, 7])
        self.assertAllEqual(video_io.spread_indices(3, 4), [0, 1, 2])
        self.assertAllEqual(video_io.spread_indices(5, None), range(5))
        with self.assertRaisesRegex(errors.InputError, "max_frames must be"):
            video_io.spread_indices(5, 0)


if __name__ == "__main__":
    tf.test.main()
