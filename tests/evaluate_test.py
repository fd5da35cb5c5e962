"""Tests for tfvidinterp.jobs.evaluate and the evaluate and export binaries."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tests import testing
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import rundir


def _order_model(frames=4):
    """Logit 0: first frame brighter than the last; logit 1: the opposite."""
    videos = keras.Input((frames, 2, 2, 3))
    first = keras.ops.mean(videos[:, 0], axis=(1, 2, 3))
    last = keras.ops.mean(videos[:, -1], axis=(1, 2, 3))
    logits = keras.ops.stack([first - last, last - first], axis=-1)
    return keras.Model(videos, logits)


class EvaluateTest(testing.TrainedRunTestCase):
    def test_reversed_clips_flip_an_order_model(self):
        ramp = np.arange(4, dtype=np.float32)[:, None, None, None]
        videos = np.stack(
            [
                np.broadcast_to(ramp, (4, 2, 2, 3)),
                np.broadcast_to(ramp[::-1], (4, 2, 2, 3)),
            ]
        )
        dataset = tf.data.Dataset.from_tensor_slices(
            dict(
                frames=videos,
                label=np.array([1, 0], np.int32),
                id=np.array([b"up", b"down"]),
            )
        ).batch(2)
        logits, reversed_logits, labels, ids = evaluate.predict(
            _order_model(), dataset
        )
        self.assertAllEqual(np.argmax(logits, 1), labels)
        self.assertAllEqual(np.argmax(reversed_logits, 1), 1 - labels)
        self.assertAllEqual(ids, [b"up", b"down"])

    def test_run_writes_json_and_tensorboard(self):
        result = evaluate.run(self.config, self.workdir)
        self.assertEqual(result["split"], "validation")
        self.assertEqual(result["step"], 2)
        for direction in ("forward", "reversed"):
            report = result[direction]
            self.assertEqual(report["num_clips"], 16)
            self.assertLen(report["f1"], 6)
            self.assertEqual(np.sum(report["confusion_matrix"]), 16)
            self.assertBetween(report["top1"], 0.0, report["top5"])
        with open(
            rundir.path(self.workdir, rundir.EVAL, "validation.json")
        ) as f:
            self.assertEqual(json.load(f), result)
        accumulator = event_accumulator.EventAccumulator(
            rundir.path(self.workdir, rundir.TENSORBOARD, "evaluate"),
            size_guidance={event_accumulator.TENSORS: 0},
        )
        accumulator.Reload()
        self.assertContainsSubset(
            {
                "validation/forward/top1",
                "validation/reversed/top1",
                "validation/f1",
                "validation/confusion_matrix",
            },
            set(accumulator.Tags()["tensors"]),
        )

    @pytest.mark.slow
    def test_binaries_export_evaluate_and_fail_cleanly(self):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        flags = [
            "--config=configs/clstm_synthetic.py:smoke",
            f"--config.input.data_dir={self.data_dir}",
        ]

        def run(binary, *args):
            return subprocess.run(
                [sys.executable, "-m", f"binaries.{binary}", *flags, *args],
                cwd=testing.REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )

        exported = run("export", f"--workdir={self.workdir}")
        self.assertEqual(exported.returncode, 0, exported.stderr[-2000:])
        path = rundir.path(self.workdir, rundir.EXPORT, "classifier")
        self.assertTrue(os.path.exists(os.path.join(path, "saved_model.pb")))
        empty = run("evaluate", f"--workdir={self.root}/nothing")
        self.assertEqual(empty.returncode, 2)
        # TensorFlow's own C++ start-up lines may precede ours.
        errors = [
            line
            for line in empty.stderr.splitlines()
            if line.startswith("evaluate.py:")
        ]
        self.assertEqual(
            errors,
            [
                "evaluate.py: error: No checkpoint in "
                f"{self.root}/nothing/ckpt; train the model first."
            ],
        )
        self.assertNotIn("Traceback", empty.stderr)


if __name__ == "__main__":
    tf.test.main()
