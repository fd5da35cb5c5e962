"""Tests for tfvidinterp.jobs.train: learning, resuming, TensorBoard output."""

import copy
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized
from tensorboard.backend.event_processing import event_accumulator

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train


def _smoke_config(name, data_dir, steps):
    config = testing.load_config(f"configs/{name}.py", "smoke")
    config.input.data_dir = data_dir
    config.train.steps_per_epoch = steps
    config.train.eval_every_steps = steps
    config.train.checkpoint_every_steps = steps
    return config


def _empty_train_split(data_dir, directory):
    """A copy of `data_dir` whose training split is one shard of no clips,
    as a split of only rejected videos leaves it."""
    shutil.copytree(data_dir, directory)
    for path in glob.glob(os.path.join(directory, "train-*.tfrecord")):
        os.remove(path)
    with tf.io.TFRecordWriter(
        os.path.join(directory, "train-00000-of-00001.tfrecord")
    ):
        pass
    info = prepare.read_info(directory)
    info["splits"]["train"].update(num_clips=0, num_shards=1)
    with open(os.path.join(directory, prepare.INFO_FILE), "w") as f:
        json.dump(info, f)
    return directory


def _error_lines(result, binary):
    """The lines of a binary's stderr that are its own."""
    return [
        line
        for line in result.stderr.splitlines()
        if line.startswith(f"{binary}.py:")
    ]


def _batch_loss(model, batch):
    # Training-mode BN (batch statistics): after a few dozen steps the moving
    # averages (momentum 0.99) are still mostly their initial values. The
    # seed fixes the dropout masks, so both calls see the same network noise.
    keras.utils.set_random_seed(1)
    logits = model(batch["frames"], training=True)
    return float(
        tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(
                batch["label"], logits, from_logits=True
            )
        )
    )


class TrainTest(testing.SyntheticDataTestCase, parameterized.TestCase):
    @parameterized.parameters("i3d_synthetic", "clstm_synthetic")
    @pytest.mark.slow
    def test_smoke_training_lowers_the_loss(self, name):
        # One clip per class: 30 steps are enough to fit them, not to learn
        # the task, and that is what a smoke run can show.
        data_dir = testing.synthetic_data(
            tempfile.mkdtemp(dir=self.get_temp_dir()), num_clips=(8, 8, 0)
        )
        config = _smoke_config(name, data_dir, steps=30)
        # The C-LSTM's frozen batch norm leaves its tiny smoke version slow
        # to start at the config's rate (loss 1.83 against 1.67 allowed).
        config.train.lr = 1e-2
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        batch = next(
            iter(
                pipeline.make_dataset(
                    data_dir,
                    "train",
                    num_frames=config.input.num_frames,
                    image_size=config.input.image_size,
                    batch_size=16,
                    training=False,
                )
            )
        )
        keras.utils.set_random_seed(config.seed)
        before = _batch_loss(train.build_model(config, num_classes=6), batch)
        result = train.run(config, workdir)
        self.assertEqual(result["final_step"], 30)
        after = _batch_loss(train.load_model(config, workdir)[0], batch)
        self.assertLess(after, 0.8 * before)
        self.assertTrue(os.path.exists(rundir.path(workdir, rundir.MODEL)))
        self.assertTrue(os.path.exists(rundir.path(workdir, rundir.CONFIG)))

    def test_tensorboard_has_scalars_images_config(self):
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=2)
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        train.run(config, workdir)
        runs = {}
        for run in ("train", "eval"):
            accumulator = event_accumulator.EventAccumulator(
                rundir.path(workdir, rundir.TENSORBOARD, run),
                size_guidance={event_accumulator.TENSORS: 0},
            )
            accumulator.Reload()
            runs[run] = accumulator
        tags = runs["train"].Tags()["tensors"]
        self.assertContainsSubset(
            {"loss", "accuracy", "learning_rate", "input_clips", "config"},
            set(tags),
        )
        image = runs["train"].Tensors("input_clips")[0].tensor_proto
        # An image summary holds width, height, then the encoded images.
        self.assertEqual(len(image.string_val), 2 + 3)
        self.assertEqual(
            [e.step for e in runs["train"].Tensors("loss")], [1, 2]
        )
        self.assertIn("_hparams_/session_start_info", tags)
        self.assertIn("accuracy", runs["eval"].Tags()["tensors"])

    @pytest.mark.slow
    def test_deterministic_run_gives_identical_weights(self):
        # The C-LSTM for speed; without op determinism its weights already
        # differ after 20 steps, as the I3D's do.
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=3)
        self.assertTrue(config.deterministic)  # The demo's configs.
        weights = []
        for _ in range(2):
            workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
            result = train.run(config, workdir)
            weights.append([w.numpy() for w in result["model"].weights])
        self.assertLen(weights[0], len(weights[1]))
        for first, again in zip(*weights):
            self.assertAllEqual(first, again)
        config.seed = 1
        other = train.run(config, tempfile.mkdtemp(dir=self.get_temp_dir()))
        self.assertFalse(
            all(
                np.array_equal(w.numpy(), v)
                for w, v in zip(other["model"].weights, weights[0])
            )
        )
        self.assertEqual([step for step, _ in other["eval_history"]], [3])
        self.assertGreater(other["seconds"], 0.0)

    def test_run_stops_at_target_accuracy_and_stays_stopped(self):
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=10)
        config.train.eval_every_steps = 2
        config.train.target_accuracy = 0.9
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        with mock.patch.object(
            train.Evaluator, "__call__", side_effect=[0.5, 0.95]
        ) as evaluate:
            result = train.run(config, workdir)
        self.assertEqual(evaluate.call_args_list, [mock.call(2), mock.call(4)])
        self.assertEqual((result["final_step"], result["stopped_at"]), (4, 4))
        self.assertEqual(result["eval_accuracy"], 0.95)
        self.assertTrue(os.path.exists(rundir.path(workdir, rundir.MODEL)))
        again = train.run(config, workdir)
        self.assertEqual((again["start_step"], again["final_step"]), (4, 4))

    @pytest.mark.slow
    def test_killed_run_resumes_from_its_checkpoint(self):
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        command = [
            sys.executable,
            "-m",
            "binaries.train",
            "--config=configs/clstm_synthetic.py:smoke",
            f"--workdir={workdir}",
            f"--config.input.data_dir={self.data_dir}",
            "--config.train.steps_per_epoch=400",
            "--config.train.checkpoint_every_steps=5",
            "--config.train.eval_every_steps=1000",
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        first = subprocess.Popen(
            command,
            cwd=testing.REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ckpt_dir = rundir.path(workdir, rundir.CHECKPOINTS)
        deadline = time.time() + 120
        while tf.train.latest_checkpoint(ckpt_dir) is None:
            self.assertIsNone(first.poll(), "run ended before a checkpoint")
            self.assertLess(time.time(), deadline)
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = int(tf.train.latest_checkpoint(ckpt_dir).rsplit("-")[-1])
        self.assertBetween(killed_at, 5, 399)
        second = subprocess.run(
            command[:-3]
            + [
                "--config.train.steps_per_epoch=" + str(killed_at + 5),
                "--config.train.checkpoint_every_steps=5",
                "--config.train.eval_every_steps=1000",
            ],
            cwd=testing.REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(second.returncode, 0, second.stderr[-2000:])
        resumed = [
            line
            for line in second.stdout.splitlines()
            if line.startswith("Resumed from step")
        ]
        self.assertEqual(
            resumed, [f"Resumed from step {killed_at} of {killed_at + 5}."]
        )
        final = int(tf.train.latest_checkpoint(ckpt_dir).rsplit("-")[-1])
        self.assertEqual(final, killed_at + 5)

    def test_a_missing_or_empty_training_split_is_refused(self):
        missing = testing.synthetic_data(
            os.path.join(self.get_temp_dir(), "no_train"), num_clips=(0, 8, 0)
        )
        empty = _empty_train_split(
            self.data_dir, os.path.join(self.get_temp_dir(), "empty_train")
        )
        for data_dir, problem, splits in (
            (missing, "is missing", r"validation \(8 clips\)"),
            (empty, "has no clips", r"train \(0 clips\), validation"),
        ):
            config = _smoke_config("clstm_synthetic", data_dir, steps=2)
            workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
            with self.assertRaisesRegex(
                errors.InputError,
                f"^the training split 'train' of dataset {data_dir} "
                f"{problem} \\(its splits: {splits}.*\\); prepare the dataset "
                "with this split",
            ):
                train.run(config, workdir)
            self.assertFalse(os.path.exists(rundir.path(workdir, "ckpt")))

    def test_a_missing_eval_split_is_refused_before_the_first_step(self):
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=2)
        config.eval.split = "test"  # The shared dataset has none.
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        with self.assertRaisesRegex(
            errors.InputError,
            f"^eval.split 'test' of dataset {self.data_dir} is missing "
            r"\(its splits: train \(48 clips\), validation \(16 clips\)\); "
            "evaluate another split, e.g. --config.eval.split=validation$",
        ):
            train.run(config, workdir)
        self.assertFalse(os.path.exists(rundir.path(workdir, "ckpt")))

    def test_a_resume_must_keep_the_model_and_data(self):
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=2)
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        train.run(config, workdir)
        recorded = rundir.read_config(workdir)
        self.assertEqual(recorded, json.loads(json.dumps(config.to_dict())))
        self.assertLen(rundir.read_classes(workdir), 6)
        other = copy.deepcopy(config)
        other.model.num_layers = 1
        other.train.steps_per_epoch = 3
        with self.assertRaisesRegex(
            errors.InputError,
            "holds a run of another config: model.num_layers "
            r"\(run: 2, given: 1\); resume it with",
        ):
            train.run(other, workdir)
        self.assertEqual(rundir.read_config(workdir), recorded)
        # Training longer, evaluating another split: a resume as before.
        config.train.steps_per_epoch = 3
        config.train.eval_every_steps = 3
        result = train.run(config, workdir)
        self.assertEqual((result["start_step"], result["final_step"]), (2, 3))
        self.assertEqual(rundir.read_config(workdir), recorded)
        # Nothing left to train: the missing split is not read.
        config.eval.split = "test"
        self.assertEqual(train.run(config, workdir)["final_step"], 3)

    def test_a_checkpoint_of_another_model_is_not_restored_in_part(self):
        config = _smoke_config("clstm_synthetic", self.data_dir, steps=2)
        workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
        # A run without config.json (older versions wrote it, but a user may
        # have lost it): only the checkpoint can tell.
        model = train.build_model(config, num_classes=6)
        tf.train.Checkpoint(model=model).save(
            rundir.path(workdir, rundir.CHECKPOINTS, "ckpt")
        )
        restored = train.restore(config, workdir)
        self.assertEqual(restored.step, 1)
        for variable, saved in zip(restored.model.weights, model.weights):
            self.assertAllEqual(variable, saved)
        fewer = copy.deepcopy(config)
        fewer.model.num_layers = 1
        i3d = _smoke_config("i3d_synthetic", self.data_dir, steps=2)
        for other, missing in ((fewer, "Logits/kernel"), (i3d, "")):
            with self.assertRaisesRegex(
                errors.InputError,
                f"^checkpoint {workdir}/ckpt/ckpt-1 is not of the config's "
                f"model: \\d+ of the model's \\d+ variables are not in it "
                f"\\(.*{missing}.*\\); give the config it was trained with$",
            ):
                train.load_model(other, workdir)
        wider = copy.deepcopy(config)
        wider.model.filters = 8
        with self.assertRaisesRegex(
            errors.InputError, "is not of the config's model: Received incom"
        ):
            train.load_model(wider, workdir)

    @pytest.mark.slow
    def test_binary_refuses_missing_splits_in_one_line(self):
        missing = testing.synthetic_data(
            os.path.join(self.get_temp_dir(), "only_validation"),
            num_clips=(0, 8, 0),
        )
        for data_dir, split, message in (
            (missing, "validation", "the training split 'train' of dataset"),
            (self.data_dir, "test", "eval.split 'test' of dataset"),
        ):
            workdir = tempfile.mkdtemp(dir=self.get_temp_dir())
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "binaries.train",
                    "--config=configs/clstm_synthetic.py:smoke",
                    f"--workdir={workdir}",
                    f"--config.input.data_dir={data_dir}",
                    f"--config.eval.split={split}",
                ],
                cwd=testing.REPO,
                env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.assertEqual(result.returncode, 2, result.stderr[-2000:])
            [line] = _error_lines(result, "train")
            self.assertStartsWith(line, f"train.py: error: {message}")
            self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    tf.test.main()
