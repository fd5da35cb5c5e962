"""Tests for tfvidinterp.data.video_io on videos encoded by PyAV."""

import os
import tracemalloc
from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
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

    def test_a_wrong_packet_count_is_corrected(self):
        video_io.encode(self.path("ramp.avi"), ramp(), codec="ffv1")
        for wrong in (0, 4, 30):  # A container can claim any count.
            with mock.patch.object(
                video_io, "_count_packets", return_value=wrong
            ):
                decoded = video_io.decode(self.path("ramp.avi"), max_frames=4)
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

    def test_size_change_mid_stream_is_resized_to_the_first(self):
        path = self.path("cut_together.ts")
        testing.write_resolution_change(path)  # 4 at 24x32, 5 at 48x40.
        decoded = video_io.decode(path)
        self.assertEqual(decoded.shape, (9, 24, 32, 3))
        levels = decoded.mean(axis=(1, 2, 3))
        self.assertAllClose(levels, 20 * np.arange(9), atol=4)
        sampled = video_io.decode(path, max_frames=3, short_side=12)
        self.assertEqual(sampled.shape, (3, 12, 16, 3))
        # Segment middles of 9 frames in 3: frames 1, 4, 7.
        self.assertAllClose(sampled.mean(axis=(1, 2, 3)), [20, 80, 140], atol=4)

    @parameterized.named_parameters(
        ("phone_portrait", -90, False),
        ("other_way", 90, False),
        ("upside_down", 180, False),
        ("rotate_tag", -90, True),
    )
    def test_rotation_is_undone(self, degrees, tag):
        path = self.path("rotated.mkv" if tag else "rotated.mp4")
        upright = testing.upright_image(32, 24)
        testing.write_rotated(path, upright, degrees=degrees, tag=tag)
        decoded = video_io.decode(path)
        self.assertEqual(decoded.shape, (3, 32, 24, 3))
        self.assertAllClose(decoded[0], upright, atol=40)
        small = video_io.decode(path, short_side=12)
        self.assertEqual(small.shape, (3, 16, 12, 3))

    def test_memory_does_not_grow_with_length(self):
        peaks = []
        for num_frames in (10, 100):
            path = self.path(f"long{num_frames}.avi")
            frames = np.zeros((num_frames, 240, 320, 3), np.uint8)
            frames[:, :, :40] = np.arange(num_frames)[:, None, None, None]
            video_io.encode(path, frames)
            del frames
            tracemalloc.start()
            decoded = video_io.decode(path, max_frames=4, short_side=120)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            self.assertEqual(decoded.shape, (4, 120, 160, 3))
        # Four kept 120x160 frames are 230 kB, and one decoded frame 230 kB;
        # holding 100 decoded 240x320 frames would be 23 MB.
        self.assertLess(peaks[1], 1.5 * peaks[0] + 100_000, peaks)

    def test_frame_range(self):
        video_io.encode(self.path("ramp.avi"), ramp(), codec="ffv1")
        video = video_io.read(self.path("ramp.avi"), frame_range=(3, 8))
        self.assertEqual(video.num_frames, 6)
        self.assertAllClose(
            video.frames[:, 0, 0, 0], 20 * np.arange(2, 8), atol=1
        )
        video = video_io.read(
            self.path("ramp.avi"), max_frames=2, frame_range=(7, 40)
        )
        self.assertEqual(video.num_frames, 4)  # Frames 7-10.
        self.assertAllClose(video.frames[:, 0, 0, 0], [140, 180], atol=1)
        with self.assertRaisesRegex(
            video_io.DecodeError, "range 11-12 starts after the last of .* 10"
        ):
            video_io.read(self.path("ramp.avi"), frame_range=(11, 12))
        for bad in [(0, 10), (100, 50)]:
            with self.assertRaisesRegex(
                errors.InputError,
                f"Bad frame range {bad[0]}-{bad[1]}: frames are numbered "
                "from 1, and the first may not come after the last",
            ):
                video_io.read(self.path("ramp.avi"), frame_range=bad)

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
