"""Tests for tfvidinterp.measures.blobs on hand-drawn maps."""

import cv2
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.measures import blobs


def discs(centres, radius, size=64):
    """A `(size, size)` map in [0, 1] with filled discs at `(x, y)` centres."""
    image = np.zeros((size, size), np.uint8)
    for x, y in centres:
        cv2.circle(image, (x, y), radius, 255, -1)
    return image / 255.0


def detector():
    return blobs.make_detector(
        dict(testing.load_config("configs/compare.py").blobs)
    )


class BlobsTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(4, 6, 10)
    def test_discs_give_count_position_and_diameter(self, radius):
        found = blobs.detect(discs([(20, 20), (44, 40)], radius), detector())
        found = found[np.argsort(found[:, 0])]
        self.assertAllClose(found[:, :2], [[20, 20], [44, 40]], atol=0.5)
        # The keypoint size is twice the median centre-to-outline distance,
        # measured on the outline's pixel centres: 2r - 1, within a pixel.
        self.assertAllClose(found[:, 2], [2 * radius - 1] * 2, atol=1.0)

    def test_smooth_bump_is_one_blob_at_its_peak(self):
        y, x = np.mgrid[:64, :64]
        bump = np.exp(-((x - 40) ** 2 + (y - 24) ** 2) / (2 * 6.0**2))
        found = blobs.detect(bump, detector())
        self.assertLen(found, 1)
        self.assertAllClose(found[0, :2], [40, 24], atol=0.5)

    def test_clip_statistics_average_frames_and_blobs(self):
        heatmaps = np.stack(
            [
                discs([(10, 10), (50, 45)], 5),
                discs([(32, 32)], 8),
                np.zeros((64, 64)),
            ]
        )
        stats = blobs.clip_statistics(heatmaps, detector())
        self.assertEqual(stats["num_blobs"], 3)
        self.assertAllClose(stats["blob_count"], 1.0)
        self.assertAllClose(stats["blob_size"], (9 + 9 + 15) / 3, atol=1.0)
        # Distances to the frame's centre (31.5, 31.5), the middle pixel.
        distances = np.hypot(
            [10 - 31.5, 50 - 31.5, 0.5], [10 - 31.5, 45 - 31.5, 0.5]
        )
        self.assertAllClose(
            stats["center_distance"], distances.mean(), atol=0.5
        )

    def test_blank_clip_has_no_blobs_and_nan_size(self):
        stats = blobs.clip_statistics(np.zeros((4, 32, 48)), detector())
        self.assertEqual(stats["blob_count"], 0.0)
        self.assertEqual(stats["num_blobs"], 0)
        self.assertTrue(np.isnan(stats["blob_size"]))
        self.assertTrue(np.isnan(stats["center_distance"]))

    def test_whole_frame_lit_is_one_blob_at_the_centre(self):
        stats = blobs.clip_statistics(np.ones((2, 32, 48)), detector())
        self.assertEqual(stats["blob_count"], 1.0)
        self.assertAllClose(stats["center_distance"], 0.0, atol=0.5)

    def test_unknown_parameter_is_an_input_error(self):
        with self.assertRaisesRegex(errors.InputError, "'minThreshhold'"):
            blobs.make_detector({"minThreshhold": 10})


if __name__ == "__main__":
    tf.test.main()
