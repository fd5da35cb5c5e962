"""Tests for tfvidinterp.models.kinetics_i3d on release-shaped checkpoints."""

import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.models import clstm
from tfvidinterp.models import i3d
from tfvidinterp.models import kinetics_i3d

_SCOPE = "RGB/inception_i3d/"


def _model(num_classes=400, **kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("width", 1.0)
    return i3d.build(num_classes, num_frames=8, image_size=64, **kwargs)


def _outputs(model, names, videos):
    """The outputs of `model`'s layers `names` on `videos`, in inference."""
    layers = {name: model.get_layer(name).output for name in names}
    outputs = keras.Model(model.input, layers)(videos, training=False)
    return [outputs[name] for name in names]


class KineticsI3dTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.prefix = os.path.join(cls.root, "rgb", "model.ckpt")
        cls.tensors = testing.write_kinetics_i3d_checkpoint(cls.prefix)
        cls.videos = testing.tiny_videos(batch=1, frames=8, size=64)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)
        super().tearDownClass()

    def _unit(self, x, unit, strides=(1, 1, 1)):
        """The release's Unit3D by hand: conv, batch norm, ReLU."""

        def get(name):
            return self.tensors[f"{_SCOPE}{unit}/{name}"]

        x = tf.nn.conv3d(x, get("conv_3d/w"), [1, *strides, 1], "SAME")
        x = (x - get("batch_norm/moving_mean")) / np.sqrt(
            get("batch_norm/moving_variance") + 1e-3
        )
        return tf.nn.relu(x + get("batch_norm/beta"))

    @parameterized.named_parameters(
        ("paper_strides", False, 1), ("original_strides", True, 2)
    )
    def test_first_unit_is_the_checkpoints_conv_and_batch_norm(
        self, original_strides, stride_t
    ):
        model = _model(original_strides=original_strides)
        kinetics_i3d.load(model, self.prefix)
        (got,) = _outputs(model, ["Conv3d_1a_7x7"], self.videos)
        expected = self._unit(
            self.videos / 127.5 - 1.0, "Conv3d_1a_7x7", (stride_t, 2, 2)
        )
        self.assertEqual(got.shape, (1, 8 // stride_t, 32, 32, 64))
        self.assertAllClose(got, expected, rtol=1e-4, atol=1e-4)

    @parameterized.parameters("Mixed_4b", "Mixed_5b")
    def test_mixed_block_is_the_checkpoints_four_branches(self, block):
        """Mixed_5b's Branch_2 3x3 conv is the release's `Conv3d_0a_3x3`."""
        before = {
            "Mixed_4b": "MaxPool3d_4a_3x3",
            "Mixed_5b": "MaxPool3d_5a_2x2",
        }
        model = _model()
        kinetics_i3d.load(model, self.prefix)
        x, got = _outputs(model, [before[block], block], self.videos)
        last = "0a_3x3" if block == "Mixed_5b" else "0b_3x3"
        branch_1 = self._unit(x, f"{block}/Branch_1/Conv3d_0a_1x1")
        branch_2 = self._unit(x, f"{block}/Branch_2/Conv3d_0a_1x1")
        pooled = tf.nn.max_pool3d(x, 3, 1, "SAME")
        expected = tf.concat(
            [
                self._unit(x, f"{block}/Branch_0/Conv3d_0a_1x1"),
                self._unit(branch_1, f"{block}/Branch_1/Conv3d_0b_3x3"),
                self._unit(branch_2, f"{block}/Branch_2/Conv3d_{last}"),
                self._unit(pooled, f"{block}/Branch_3/Conv3d_0b_1x1"),
            ],
            axis=-1,
        )
        self.assertGreater(float(tf.reduce_max(expected)), 0.0)
        self.assertAllClose(got, expected, rtol=1e-4, atol=1e-4)

    def test_logits_are_the_checkpoints_conv_on_pooled_features(self):
        model = _model()
        loaded, initialised = kinetics_i3d.load(model, self.prefix)
        features, logits = _outputs(model, ["Mixed_5c", "Logits"], self.videos)
        w = self.tensors[f"{_SCOPE}Logits/Conv3d_0c_1x1/conv_3d/w"]
        b = self.tensors[f"{_SCOPE}Logits/Conv3d_0c_1x1/conv_3d/b"]
        pooled = tf.reduce_mean(features, axis=(1, 2, 3))
        self.assertAllClose(logits, pooled @ w[0, 0, 0] + b, atol=1e-4)
        self.assertAllEqual(model.get_layer("Logits").bias, b)
        self.assertEqual(initialised, [])
        # 57 units of 5 variables (the release's 4 and gamma), and the head.
        self.assertLen(loaded, 57 * 5 + 2)
        self.assertCountEqual(loaded, [v.path for v in model.weights])
        gamma = model.get_layer("Mixed_5c_Branch_3_Conv3d_0b_1x1_bn").gamma
        self.assertAllEqual(gamma, np.ones(128))

    def test_another_class_count_keeps_the_initial_head(self):
        model = _model(num_classes=5)
        head = [v.numpy() for v in model.get_layer("Logits").weights]
        loaded, initialised = kinetics_i3d.load(model, self.prefix)
        self.assertEqual(initialised, ["Logits/kernel", "Logits/bias"])
        self.assertLen(loaded, 57 * 5)
        self.assertAllEqual(model.get_layer("Logits").kernel, head[0])
        self.assertAllEqual(model.get_layer("Logits").bias, head[1])
        self.assertAllEqual(
            model.get_layer("Conv3d_2c_3x3_conv").kernel,
            self.tensors[f"{_SCOPE}Conv3d_2c_3x3/conv_3d/w"],
        )

    def test_600_class_release_has_no_scope_and_5d_statistics(self):
        prefix = os.path.join(self.root, "kin600", "model.ckpt")
        tensors = testing.write_kinetics_i3d_checkpoint(
            prefix, num_classes=600, variant="rgb600"
        )
        self.assertTrue(kinetics_i3d.is_checkpoint(prefix))
        model = _model(num_classes=600)
        _, initialised = kinetics_i3d.load(model, prefix)
        self.assertEqual(initialised, [])
        self.assertAllEqual(
            model.get_layer("Mixed_3c_Branch_2_Conv3d_0b_3x3_bn").moving_mean,
            tensors["Mixed_3c/Branch_2/Conv3d_0b_3x3/batch_norm/moving_mean"][
                0, 0, 0, 0
            ],
        )

    def test_refuses_what_is_not_a_full_width_rgb_i3d(self):
        flow = os.path.join(self.root, "flow", "model.ckpt")
        testing.write_kinetics_i3d_checkpoint(flow, variant="flow")
        with self.assertRaisesRegex(errors.InputError, "Flow checkpoint"):
            kinetics_i3d.load(_model(width=0.125), flow)
        with self.assertRaisesRegex(
            errors.InputError,
            r"Conv3d_1a_7x7_conv/kernel has shape \(7, 7, 7, 3, 8\), the "
            r"checkpoint's \(7, 7, 7, 3, 64\); the release is a full-width "
            r"I3D \(model.width=1.0\)$",
        ):
            kinetics_i3d.load(_model(width=0.125), self.prefix)
        lstm = clstm.build(3, num_frames=4, image_size=32, num_layers=1)
        with self.assertRaisesRegex(errors.InputError, "into an I3D only"):
            kinetics_i3d.load(lstm, self.prefix)

    def test_a_run_checkpoint_is_not_the_release(self):
        prefix = tf.train.Checkpoint(model=testing.tiny_model("i3d")).write(
            os.path.join(self.root, "run", "ckpt")
        )
        self.assertFalse(kinetics_i3d.is_checkpoint(prefix))
        self.assertTrue(kinetics_i3d.is_checkpoint(self.prefix))
        with self.assertRaisesRegex(errors.InputError, "not a kinetics-i3d"):
            kinetics_i3d.load(_model(), prefix)


if __name__ == "__main__":
    tf.test.main()
