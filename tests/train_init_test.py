"""Tests for `train.init_weights`: warm starts of new training runs."""

import contextlib
import io
import os
import tempfile

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train


def _config(data_dir, init_weights, steps=2, name="clstm_synthetic"):
    config = testing.load_config(f"configs/{name}.py", "smoke")
    config.input.data_dir = data_dir
    config.train.steps_per_epoch = steps
    config.train.init_weights = init_weights
    # Adam at rate 0 leaves every weight where the warm start put it (the
    # C-LSTM's frozen batch norms do not move their statistics either).
    config.train.lr = 0.0
    return config


def _run(config, workdir):
    """`train.run`'s result and its printed lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = train.run(config, workdir)
    return result, out.getvalue().splitlines()


class InitWeightsTest(testing.SyntheticDataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = tempfile.mkdtemp()
        config = _config(cls.data_dir, "")
        config.train.lr = 1e-2
        train.run(config, cls.source)
        cls.model = train.restore(None, cls.source).model

    def _workdir(self):
        return tempfile.mkdtemp(dir=self.get_temp_dir())

    def test_new_run_starts_from_the_runs_checkpoint(self):
        source = rundir.path(self.source, rundir.CHECKPOINTS)
        workdir = self._workdir()
        result, lines = _run(_config(self.data_dir, source), workdir)
        self.assertIn(
            f"Initialised from {source}/ckpt-2 (checkpoint): 16 variables "
            "loaded, 0 freshly initialised.",
            lines,
        )
        for ours, theirs in zip(result["model"].weights, self.model.weights):
            self.assertAllEqual(ours, theirs)
        videos = testing.tiny_videos(frames=8, size=32)
        self.assertAllClose(
            result["model"](videos, training=False),
            self.model(videos, training=False),
        )
        recorded = rundir.read_config(workdir)
        self.assertEqual(recorded["train"]["init_weights"], source)
        # A resumed run keeps its own weights.
        config = _config(self.data_dir, "/nowhere", steps=3)
        _, lines = _run(config, workdir)
        self.assertIn(
            "train.init_weights ignored: the run resumes from its own "
            f"checkpoint {workdir}/ckpt/ckpt-2.",
            lines,
        )

    def test_other_class_count_gets_a_new_head(self):
        """A 4-class model's weights file into a run of the 6 classes."""
        config = _config(self.data_dir, "")
        other = train.build_model(config, num_classes=4)
        path = os.path.join(self._workdir(), "other.weights.h5")
        other.save_weights(path)
        config.train.init_weights = path
        result, lines = _run(config, self._workdir())
        self.assertIn(
            f"Initialised from {path} (keras): 14 variables loaded, 2 "
            "freshly initialised (Logits/kernel, Logits/bias).",
            lines,
        )
        model = result["model"]
        for ours, theirs in zip(model.weights[:-2], other.weights[:-2]):
            self.assertAllEqual(ours, theirs)
        self.assertEqual(model.get_layer("Logits").bias.shape, (6,))

    def test_bad_init_weights_are_refused_before_training(self):
        i3d = os.path.join(self._workdir(), "i3d.weights.h5")
        model = train.build_model(
            _config(self.data_dir, "", name="i3d_synthetic"), num_classes=6
        )
        model.save_weights(i3d)
        for path, message in (
            ("/nowhere/ckpt-3", "^init_weights /nowhere/ckpt-3: no such"),
            (i3d, f"^weights file {i3d} is not of the config's model: "),
        ):
            workdir = self._workdir()
            with self.assertRaisesRegex(errors.InputError, message):
                _run(_config(self.data_dir, path), workdir)
            self.assertIsNone(
                tf.train.latest_checkpoint(
                    rundir.path(workdir, rundir.CHECKPOINTS)
                )
            )

    @pytest.mark.slow
    def test_full_width_i3d_fine_tunes_from_the_kinetics_release(self):
        prefix = os.path.join(self._workdir(), "rgb_imagenet", "model.ckpt")
        testing.write_kinetics_i3d_checkpoint(prefix)
        config = _config(self.data_dir, prefix, name="i3d_synthetic")
        config.model.width = 1.0
        result, lines = _run(config, self._workdir())
        self.assertIn(
            f"Initialised from {prefix} (kinetics_i3d): 285 variables "
            "loaded, 2 freshly initialised (Logits/kernel, Logits/bias).",
            lines,
        )
        self.assertEqual(result["final_step"], 2)
        kernel = result["model"].get_layer("Conv3d_1a_7x7_conv").kernel
        reader = tf.train.load_checkpoint(prefix)
        self.assertAllEqual(
            kernel,
            reader.get_tensor("RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w"),
        )


if __name__ == "__main__":
    tf.test.main()
