"""Tests for the pipeline's reduced-scale JPEG decode against full decode."""

import types

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from benchmarks import decode
from tfvidinterp.data import crop_decode
from tfvidinterp.data import pipeline
from tfvidinterp.data import synthetic
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops


def _position_frames(num_frames, height, width):
    """Red encodes the frame index (12 levels a frame), green x, blue y."""
    t, y, x = np.meshgrid(
        np.arange(num_frames),
        np.arange(height),
        np.arange(width),
        indexing="ij",
    )
    frames = np.stack([12 * t, x * 255 / width, y * 255 / height], -1)
    return frames.astype(np.uint8)


def _ground_truth(num_frames):
    boxes = np.zeros((num_frames, synthetic.MAX_OBJECTS, 4), np.float32)
    valid = np.zeros((num_frames, synthetic.MAX_OBJECTS), bool)
    # A box sliding right, partly cut by most crops.
    for t in range(num_frames):
        boxes[t, 0] = (0.2, 0.05 * t, 0.6, 0.05 * t + 0.3)
        valid[t, 0] = True
    return types.SimpleNamespace(window=(2, 5), boxes=boxes, box_valid=valid)


class ReducedDecodeTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("quarter", (64, 86), (16, 22), (16, 22)),
        ("half", (64, 86), (17, 23), (32, 43)),
        ("full", (64, 86), (33, 44), (64, 86)),
    )
    def test_decodes_at_the_smallest_covering_scale(
        self, stored, new_size, decoded
    ):
        jpegs = tfrecord._encode_jpegs(_position_frames(2, *stored), 95)
        frames, extent = tfrecord.decode_frames_covering(
            tf.constant(jpegs), new_size
        )
        self.assertEqual(frames.shape, (2, *decoded, 3))
        ratio = stored[0] / decoded[0]
        self.assertAllClose(extent, [stored[0] / ratio, stored[1] / ratio])

    @parameterized.named_parameters(
        # (output size, offset): 64 x 86 frames decoded at full scale and
        # resized whole (the per-frame path), kept as they are, decoded at
        # 1/2 and resized whole, at 1/4 for crop_and_resize.
        ("full_scale", 56, (0, 11)),
        ("identity", 64, (0, 5)),
        ("half", 28, (0, 7)),
        ("quarter", 12, (0, 3)),
    )
    def test_decode_crop_equals_decode_then_resize_and_crop(self, size, offset):
        frames = decode.textured_frames(3, 64, 86)
        jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
        new_size = video_ops.resized_size([64, 86], size)
        offset = tf.constant(offset)
        video, extent = tfrecord.decode_frames_covering(jpegs, new_size)
        expected = video_ops.resize_and_crop(
            video, new_size, offset, size, extent
        )
        for fn in (
            crop_decode.decode_crop,
            tf.function(crop_decode.decode_crop),
        ):
            cropped = fn(jpegs, new_size, offset, size)
            self.assertEqual(cropped.dtype, tf.float32)
            self.assertAllEqual(cropped, expected)

    def test_resize_and_crop_equals_resize_then_crop(self):
        video = tf.random.stateless_uniform([2, 20, 30, 3], [1, 2]) * 255
        new_size = video_ops.resized_size([20, 30], 8)
        offset = tf.constant([0, 3])
        expected = video_ops.crop(
            video_ops.resize_short_side(video, 8), offset, 8
        )
        self.assertAllClose(
            video_ops.resize_and_crop(video, new_size, offset, 8),
            expected,
            atol=1e-3,
        )

    @parameterized.named_parameters(
        # Whole-frame ResizeBilinear, then crop_and_resize for a decode
        # whose last pixel is partial (and upscales slightly in x).
        ("whole_frame", (20, 27), None, (18, 24), (1, 5)),
        ("partial_pixel", (20, 27), (19.5, 26.5), (18, 24), (2, 0)),
        ("slight_upscale", (16, 22), (16.0, 21.5), (16, 22), (0, 0)),
    )
    def test_bilinear_crop_samples_the_resized_frames_pixels(
        self, shape, extent, new_size, offset
    ):
        # Bilinear interpolation of a linear ramp gives the ramp at the
        # sampled point: pixel i of the crop samples (offset + i + 1/2) /
        # scale - 1/2, clamped to the frame, in both branches.
        y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
        video = np.stack([2 * y + 3 * x, x - y], -1)[None]
        video_extent = np.array(extent or shape, np.float64)
        scale = np.array(new_size) / video_extent
        ys, xs = (
            np.clip(
                (offset[i] + np.arange(16) + 0.5) / scale[i] - 0.5,
                0,
                shape[i] - 1,
            )
            for i in (0, 1)
        )
        ys = ys[:, None]
        expected = np.stack([2 * ys + 3 * xs, xs - ys], -1)[None]
        if extent is not None:
            extent = tf.constant(extent, tf.float32)
        cropped = video_ops.resize_and_crop(
            tf.constant(video), new_size, tf.constant(offset), 16, extent
        )
        self.assertAllClose(cropped, expected, atol=2e-3)

    @parameterized.named_parameters(
        # A quarter of the stored 64: ratio 4; 56: full scale, resized
        # whole frame by frame.
        ("quarter", 16),
        ("full_scale", 56),
    )
    def test_same_frames_crops_and_boxes_as_full_decode(self, image_size):
        data_dir = self.get_temp_dir()
        path = tfrecord.shard_path(data_dir, "train", 0, 1)
        with tf.io.TFRecordWriter(path) as writer:
            for i in range(4):
                frames = _position_frames(12 + i, 64, 86)
                writer.write(
                    tfrecord.encode_example(
                        frames, i, "a", f"c{i}", 12 + i, _ground_truth(12 + i)
                    )
                )

        def batches(reduced):
            dataset = pipeline.make_dataset(
                data_dir,
                "train",
                num_frames=6,
                image_size=image_size,
                batch_size=2,
                training=True,
                sampling="segment",
                seed=3,
                augment=True,
                flip=True,
                reduced_decode=reduced,
            )
            # Training yields clips as they are ready: order them by id.
            clips = list(dataset.unbatch().take(4).as_numpy_iterator())
            clips.sort(key=lambda clip: clip["id"])
            return {key: np.stack([c[key] for c in clips]) for key in clips[0]}

        full, reduced = batches(False), batches(True)
        for key in ("id", "frame_indices", "box_valid", "label"):
            self.assertAllEqual(reduced[key], full[key])
        self.assertAllClose(reduced["boxes"], full["boxes"])
        # One frame or one pixel of offset would cost about 12 levels.
        error = np.abs(reduced["frames"] - full["frames"])
        self.assertLess(float(np.mean(error)), 1.0)

    @parameterized.named_parameters(
        # (stored short side, output size, mean bound, 99th percentile
        # bound) in levels of 0..255, bilinear crop resample; measured
        # 0.31 / 2.9, 0.54 / 7.8, 1.12 / 8.6 and 1.47 / 12.0 (the
        # triangle resample it replaced: 0 / 0 at 224, then 1.05 / 7.4
        # and 1.32 / 10.3).
        ("full_256", 256, 224, 0.5, 4.0),
        ("full_320", 320, 224, 0.8, 11.0),
        ("half", 256, 112, 1.5, 10.0),
        ("quarter", 256, 56, 2.0, 14.0),
    )
    def test_pixel_error_on_natural_frames(self, side, size, mean, p99):
        frames = decode.textured_frames(2, side, round(side * 4 / 3))
        jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
        new_size = video_ops.resized_size(tf.shape(frames)[1:3], size)
        offset = video_ops.center_crop_offset(new_size, size)
        reduced = crop_decode.decode_crop(jpegs, new_size, offset, size)
        full = video_ops.crop(
            video_ops.resize_short_side(tfrecord.decode_frames(jpegs), size),
            offset,
            size,
        )
        error = np.abs(reduced - full)
        self.assertLess(float(np.mean(error)), mean)
        self.assertLess(float(np.percentile(error, 99)), p99)


if __name__ == "__main__":
    tf.test.main()
