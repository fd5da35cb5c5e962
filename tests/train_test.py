"""Tests for tfvidinterp.jobs.train: learning, resuming, TensorBoard output."""

import os
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
from tfvidinterp.data import pipeline
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train


def _smoke_config(name, data_dir, steps):
    config = testing.load_config(f"configs/{name}.py", "smoke")
    config.input.data_dir = data_dir
    config.train.steps_per_epoch = steps
    config.train.eval_every_steps = steps
    config.train.checkpoint_every_steps = steps
    return config


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


if __name__ == "__main__":
    tf.test.main()
