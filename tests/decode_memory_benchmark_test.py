"""Tests for the decode-memory measurement of benchmarks/inputs.py."""

import os

import pytest
import tensorflow as tf

from benchmarks import inputs
from tfvidinterp.data import video_io


class DecodeMemoryTest(tf.test.TestCase):
    def test_long_video_is_written_frame_by_frame(self):
        path = os.path.join(self.get_temp_dir(), "long.avi")
        inputs.write_long_video(path, seconds=3, fps=2, size=(48, 64))
        frames = video_io.decode(path)
        self.assertEqual(frames.shape, (6, 48, 64, 3))
        # The bar moves 16 pixels a frame.
        bar = frames[:, 24].mean(axis=-1).argmax(axis=-1)
        self.assertAllClose(bar, [0, 16, 32, 48, 0, 16], atol=2)

    @pytest.mark.slow
    def test_peak_memory_stays_flat_as_videos_grow(self):
        row, details = inputs.measure_decode_memory(
            self.get_temp_dir(), 4, 64, minutes=(0.25, 2.5), fps=2
        )
        self.assertEqual(row["name"], "decode peak memory 2.5 min vs 0.25 min")
        self.assertEqual(row["unit"], "B")
        self.assertIsNone(row["target"])
        self.assertEqual(
            details["peak_bytes"], [row["baseline"], row["measured"]]
        )
        self.assertGreater(row["baseline"], 0)
        # 300 decoded 640x480 frames held would be 276 MB; 4 kept at 64x85
        # are 65 kB.
        self.assertLess(row["ratio"], 1.5)
        self.assertEqual(details["size"], [480, 640])
        self.assertEmpty(os.listdir(self.get_temp_dir()))


if __name__ == "__main__":
    tf.test.main()
