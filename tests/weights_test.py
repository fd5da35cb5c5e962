"""Tests for tfvidinterp.models.weights: warm starts and whole restores."""

import os
import tempfile

import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.models import i3d
from tfvidinterp.models import weights

_HEAD = ["Logits/kernel", "Logits/bias"]
_MODELS = {"i3d": {}, "clstm": {"num_layers": 2}}
# Each model from a checkpoint and a file; the directory once.
_CASES = (
    ("i3d", "prefix"),
    ("i3d", "keras"),
    ("clstm", "directory"),
    ("clstm", "keras"),
)


def _model(name, num_classes=3, seed=1, **kwargs):
    return testing.tiny_model(
        name, num_classes=num_classes, seed=seed, **_MODELS[name], **kwargs
    )


class WarmStartTest(tf.test.TestCase, parameterized.TestCase):
    def _source(self, name, source, num_classes=3, **kwargs):
        """Saves a `name` model as `source`; returns the model and path."""
        model = _model(name, num_classes, seed=0, **kwargs)
        root = tempfile.mkdtemp(dir=self.get_temp_dir())
        if source == "keras":
            path = os.path.join(root, "model.weights.h5")
            model.save_weights(path)
            return model, path
        prefix = tf.train.Checkpoint(model=model).save(f"{root}/ckpt/ckpt")
        return model, prefix if source == "prefix" else f"{root}/ckpt"

    @parameterized.parameters(*_CASES)
    def test_same_model_gets_every_weight(self, name, source):
        original, path = self._source(name, source)
        model = _model(name)
        loaded = weights.warm_start(model, path)
        self.assertEqual(
            loaded.kind, "keras" if source == "keras" else "checkpoint"
        )
        self.assertEqual(loaded.loaded, [w.path for w in model.weights])
        self.assertEqual(loaded.initialised, [])
        videos = testing.tiny_videos()
        self.assertAllClose(
            model(videos, training=False), original(videos, training=False)
        )

    @parameterized.parameters(*_CASES)
    def test_other_class_count_loads_all_but_the_head(self, name, source):
        original, path = self._source(name, source, num_classes=4)
        model = _model(name, num_classes=6)
        head = [w.numpy() for w in model.get_layer("Logits").weights]
        loaded = weights.warm_start(model, path)
        self.assertEqual(loaded.initialised, _HEAD)
        self.assertLen(loaded.loaded, len(model.weights) - 2)
        self.assertNotIn("Logits/kernel", loaded.loaded)
        for ours, theirs in zip(model.weights[:-2], original.weights[:-2]):
            self.assertAllEqual(ours, theirs)
        kernel, bias = model.get_layer("Logits").weights
        self.assertEqual(kernel.shape[-1], 6)
        self.assertAllEqual(kernel, head[0])
        self.assertAllEqual(bias, head[1])

    @parameterized.parameters("prefix", "keras")
    def test_another_model_is_refused(self, source):
        _, path = self._source("i3d", source)
        with self.assertRaisesRegex(
            errors.InputError, r"is not of the config's model: [^\n]+$"
        ):
            weights.warm_start(_model("clstm"), path)
        # Another width: every layer's shape differs, not the head's alone.
        with self.assertRaisesRegex(errors.InputError, "config's model"):
            weights.warm_start(_model("i3d", width=0.25), path)

    def test_paths_that_hold_no_weights_are_refused(self):
        root = tempfile.mkdtemp(dir=self.get_temp_dir())
        cases = {
            f"{root}/none.weights.h5": "no such file$",
            f"{root}/ckpt-3": "no such checkpoint, directory or .weights.h5",
            root: f"^init_weights {root}: 0 checkpoints and no usable",
        }
        for path, message in cases.items():
            with self.assertRaisesRegex(errors.InputError, message):
                weights.warm_start(_model("clstm"), path)

    def test_release_directory_is_read_despite_its_checkpoint_file(self):
        directory = tempfile.mkdtemp(dir=self.get_temp_dir())
        testing.write_kinetics_i3d_checkpoint(f"{directory}/model.ckpt")
        # As released: the path of the authors' machine.
        with open(os.path.join(directory, "checkpoint"), "w") as f:
            f.write('model_checkpoint_path: "/cns/ckpoints/model.ckpt"\n')
        model = i3d.build(400, num_frames=8, image_size=32)
        loaded = weights.warm_start(model, directory)
        self.assertEqual(loaded.kind, "kinetics_i3d")
        self.assertEqual(loaded.source, f"{directory}/model.ckpt")
        self.assertLen(loaded.loaded, 287)
        self.assertEqual(loaded.initialised, [])


if __name__ == "__main__":
    tf.test.main()
