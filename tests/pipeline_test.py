"""Tests for tfvidinterp.data.pipeline."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import pipeline
from tfvidinterp.data import synthetic
from tfvidinterp.data import tfrecord


def _write_split(data_dir, clips_per_shard, label=None, **clip_kwargs):
    """Writes clips `clip-<seed>` (label cycling unless given); returns them."""
    clips = {}
    for index, count in enumerate(clips_per_shard):
        path = tfrecord.shard_path(
            data_dir, "train", index, len(clips_per_shard)
        )
        with tf.io.TFRecordWriter(path) as writer:
            for seed in range(len(clips), len(clips) + count):
                clip = synthetic.generate_clip(
                    seed, seed % 6 if label is None else label, **clip_kwargs
                )
                clips[f"clip-{seed}"] = clip
                name = synthetic.CLASSES[clip.label]
                writer.write(
                    tfrecord.encode_example(
                        clip.frames, clip.label, name, f"clip-{seed}", 16, clip
                    )
                )
    return clips


def _make(data_dir, **kwargs):
    """`make_dataset` on the test split with small defaults."""
    defaults = dict(num_frames=4, image_size=16, batch_size=2, training=False)
    return pipeline.make_dataset(data_dir, "train", **{**defaults, **kwargs})


def _numpy(batch, index=None):
    """A batch, or its element `index`, as numpy arrays."""
    batch = tf.nest.map_structure(np.asarray, batch)
    if index is None:
        return batch
    return {key: value[index] for key, value in batch.items()}


def _ids(dataset):
    return [i.decode() for batch in dataset for i in batch["id"].numpy()]


def _changed_pixels_inside_boxes(test, element):
    """Checks that pixels differing from a background frame lie in boxes."""
    frames, boxes = element["frames"], element["boxes"]
    height, width = frames.shape[1:3]
    background = frames[np.flatnonzero(element["event"] == 0)[0]]
    for t in np.flatnonzero(element["event"]):
        changed = np.abs(frames[t] - background).max(axis=-1) > 60
        inside = np.zeros_like(changed)
        for box in boxes[t][element["box_valid"][t]]:
            # One pixel of slack for resampling blur at the box edge.
            box = box * [height, width, height, width]
            y0, x0 = np.maximum(np.floor(box[:2]).astype(int) - 1, 0)
            y1, x1 = np.ceil(box[2:]).astype(int) + 1
            inside[y0:y1, x0:x1] = True
        test.assertFalse((changed & ~inside).any())
        test.assertTrue(changed.any())


class PipelineTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("eval_square", False, "uniform", 24, (24, 24), [2, 2, 1]),
        ("train_wide", True, "segment", (16, 24), (16, 24), [2, 2, 2, 2]),
    )
    def test_shapes_and_dtypes(
        self, training, sampling, image_size, expected, batch_sizes
    ):
        data_dir = self.get_temp_dir()
        _write_split(data_dir, [3, 2], num_frames=8, image_size=32)
        dataset = _make(
            data_dir,
            image_size=image_size,
            training=training,
            sampling=sampling,
            augment=True,
        )
        batches = list(dataset.take(4))
        self.assertEqual([len(b["id"]) for b in batches], batch_sizes)
        specs = {
            "frames": ((2, 4, *expected, 3), tf.float32),
            "label": ((2,), tf.int32),
            "id": ((2,), tf.string),
            "frame_indices": ((2, 4), tf.int32),
            "event": ((2, 4), tf.float32),
            "has_ground_truth": ((2,), tf.bool),
            "boxes": ((2, 4, 2, 4), tf.float32),
            "box_valid": ((2, 4, 2), tf.bool),
        }
        got = {k: (tuple(v.shape), v.dtype) for k, v in batches[0].items()}
        self.assertEqual(got, specs)
        self.assertAllInRange(batches[0]["frames"], 0.0, 255.0)
        self.assertAllEqual(batches[0]["has_ground_truth"], [True, True])
        for batch in batches:
            indices = batch["frame_indices"].numpy()
            self.assertTrue(np.all(np.diff(indices, axis=1) >= 0))
            self.assertAllInRange(indices, 0, 7)

    def test_uniform_sampling_gathers_the_expected_frames(self):
        data_dir = self.get_temp_dir()
        clips = _write_split(data_dir, [2], num_frames=48, image_size=32)
        dataset = _make(data_dir, num_frames=16, image_size=32)
        batch = _numpy(next(iter(dataset)))
        indices = np.arange(1, 48, 3)
        for b, clip_id in enumerate(batch["id"]):
            clip = clips[clip_id.decode()]
            start, end = clip.window
            self.assertAllEqual(batch["frame_indices"][b], indices)
            self.assertAllEqual(
                batch["event"][b], (indices >= start) & (indices < end)
            )
            self.assertAllEqual(batch["boxes"][b], clip.boxes[indices])
            error = np.abs(batch["frames"][b] - clip.frames[indices])
            self.assertLess(error.mean(), 5.0)  # JPEG, see tfrecord_test.

    def test_eval_is_deterministic_and_reads_each_clip_once(self):
        data_dir = self.get_temp_dir()
        clips = _write_split(data_dir, [3, 2, 2], num_frames=4, image_size=16)
        sizes = [len(batch["id"]) for batch in _make(data_dir)]
        self.assertEqual(sizes, [2, 2, 2, 1])
        first = _ids(_make(data_dir))
        self.assertCountEqual(first, clips)
        self.assertEqual(_ids(_make(data_dir)), first)

    def test_boxes_follow_resize_and_crop(self):
        data_dir = self.get_temp_dir()
        _write_split(data_dir, [4], num_frames=8, image_size=(48, 64))
        dataset = _make(data_dir, num_frames=8, image_size=32, batch_size=4)
        batch = next(iter(dataset))
        for b in range(4):
            _changed_pixels_inside_boxes(self, _numpy(batch, b))

    def test_flip_mirrors_boxes_and_labels(self):
        data_dir = self.get_temp_dir()
        right = synthetic.CLASSES.index("left_to_right")
        left = synthetic.CLASSES.index("right_to_left")
        _write_split(data_dir, [8], right, num_frames=8, image_size=32)
        flip_labels = list(range(len(synthetic.CLASSES)))
        flip_labels[right], flip_labels[left] = left, right
        dataset = _make(
            data_dir,
            num_frames=8,
            image_size=32,
            batch_size=8,
            training=True,
            augment=True,
            flip=True,
            flip_labels=flip_labels,
        )
        batch = next(iter(dataset))
        for b in range(8):
            element = _numpy(batch, b)
            _changed_pixels_inside_boxes(self, element)
            shown = np.flatnonzero(element["box_valid"][:, 0])
            xmin = element["boxes"][shown, 0, 1]
            self.assertEqual(xmin[-1] > xmin[0], element["label"] == right)
        self.assertCountEqual(set(batch["label"].numpy()), [left, right])

    @parameterized.named_parameters(("files", [2, 2, 1, 1]), ("clips", [6]))
    def test_input_context_shards_disjointly(self, clips_per_shard):
        data_dir = self.get_temp_dir()
        clips = _write_split(
            data_dir, clips_per_shard, num_frames=4, image_size=16
        )
        shards = []
        for pipeline_id in range(2):
            context = tf.distribute.InputContext(2, pipeline_id, 2)
            dataset = _make(data_dir, batch_size=4, input_context=context)
            self.assertLen(next(iter(dataset))["id"], 2)
            shards.append(_ids(dataset))
        self.assertEmpty(set(shards[0]) & set(shards[1]))
        self.assertCountEqual(shards[0] + shards[1], clips)

    @pytest.mark.slow
    def test_mirrored_strategy_on_two_cpus(self):
        data_dir = self.get_temp_dir()
        _write_split(data_dir, [2, 2], num_frames=4, image_size=16)
        # A fresh process: logical devices must be set before TF starts.
        script = textwrap.dedent(f"""
            import json
            import tensorflow as tf
            from tfvidinterp.data import pipeline
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
            strategy = tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
            dataset = strategy.distribute_datasets_from_function(
                lambda context: pipeline.make_dataset(
                    {data_dir!r}, "train", num_frames=4, image_size=16,
                    batch_size=4, training=True, input_context=context))
            batch = next(iter(dataset))
            local = strategy.experimental_local_results(batch["frames"])
            print(json.dumps([list(frames.shape) for frames in local]))
        """)
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=testing.REPO,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        shapes = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(shapes, [[2, 4, 16, 16, 3]] * 2)

    @parameterized.named_parameters(
        ("split", dict(split="test"), "No TFRecord shards match .*/test-"),
        ("sampling", dict(sampling="random"), "Unknown sampling 'random'"),
        ("frames", dict(num_frames=0), "num_frames must be >= 1, got 0"),
        (
            "batch",
            dict(
                batch_size=3,
                input_context=tf.distribute.InputContext(2, 0, 2),
            ),
            "Batch size 3 does not split over 2 replicas",
        ),
    )
    def test_bad_arguments_raise(self, kwargs, message):
        data_dir = self.get_temp_dir()
        _write_split(data_dir, [1], num_frames=4, image_size=16)
        kwargs = {"split": "train", "batch_size": 2, "num_frames": 4, **kwargs}
        with self.assertRaisesRegex(errors.InputError, message):
            pipeline.make_dataset(
                data_dir, image_size=16, training=False, **kwargs
            )


if __name__ == "__main__":
    tf.test.main()
