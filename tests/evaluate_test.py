"""Tests for tfvidinterp.jobs.evaluate and the evaluate and export binaries."""

import copy
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tests import testing
from tfvidinterp import errors
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

    def test_run_reads_the_runs_own_config(self):
        given = evaluate.run(self.config, self.workdir)
        self.assertEqual(evaluate.run(None, self.workdir), given)
        # A config given may change what is evaluated, not the model.
        config = copy.deepcopy(self.config)
        config.eval.batch_size = 3
        self.assertEqual(evaluate.run(config, self.workdir), given)
        with self.assertRaisesRegex(
            errors.InputError, "^split 'test' of dataset .* is missing; choose"
        ):
            evaluate.run(None, self.workdir, "test")
        with self.assertRaisesRegex(
            errors.InputError, "nothing has no config.json: not a training run"
        ):
            evaluate.run(None, os.path.join(self.root, "nothing"))

    def test_a_config_of_another_model_is_refused(self):
        for changes, named in (
            (
                dict(model_name="i3d"),
                r"model_name \(run: 'clstm', given: 'i3d'\)",
            ),
            (dict(filters=8), r"model\.filters \(run: 4, given: 8\)"),
        ):
            config = copy.deepcopy(self.config)
            if "model_name" in changes:
                config.model_name = changes["model_name"]
            else:
                config.model.update(changes)
            with self.assertRaisesRegex(
                errors.InputError,
                f"run holds a run of another config: {named}; leave out "
                "--config to use the run's own",
            ):
                evaluate.run(config, self.workdir)

    def test_a_dataset_of_other_classes_is_refused(self):
        with open(rundir.path(self.workdir, rundir.RUN)) as f:
            record = json.load(f)
        self.assertEqual(record["dataset"], "synthetic")
        first = record["classes"][0]
        record["classes"] = ["other"] + record["classes"][1:]
        other = os.path.join(self.get_temp_dir(), "other_run")
        os.makedirs(other)
        for name in (rundir.CONFIG, rundir.CHECKPOINTS):
            source = rundir.path(self.workdir, name)
            copy_ = shutil.copytree if os.path.isdir(source) else shutil.copy
            copy_(source, rundir.path(other, name))
        with open(rundir.path(other, rundir.RUN), "w") as f:
            json.dump(record, f)
        with self.assertRaisesRegex(
            errors.InputError,
            f"other_run was trained on 6 classes, dataset .* has 6 \\(0: "
            f"'other' -> '{first}'\\); use the dataset the model was trained "
            "on$",
        ):
            evaluate.run(None, other)

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

    @pytest.mark.slow
    def test_binaries_refuse_a_config_of_another_model(self):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

        def run(binary, *flags):
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    f"binaries.{binary}",
                    f"--workdir={self.workdir}",
                    *flags,
                ],
                cwd=testing.REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )

        # Without --config: the run's own.
        own = run("evaluate", "--split=validation")
        self.assertEqual(own.returncode, 0, own.stderr[-2000:])
        self.assertIn('"split": "validation"', own.stdout)
        i3d = [
            "--config=configs/i3d_synthetic.py:smoke",
            f"--config.input.data_dir={self.data_dir}",
        ]
        for binary in ("evaluate", "explain", "export"):
            result = run(binary, *i3d)
            self.assertEqual(result.returncode, 2, result.stderr[-2000:])
            lines = [
                line
                for line in result.stderr.splitlines()
                if line.startswith(f"{binary}.py:")
            ]
            self.assertLen(lines, 1)
            self.assertRegex(
                lines[0],
                f"^{binary}.py: error: {self.workdir} holds a run of another "
                r"config: .*model_name \(run: 'clstm', given: 'i3d'\); leave "
                r"out --config to use the run's own \(config\.json\)",
            )
            self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    tf.test.main()
