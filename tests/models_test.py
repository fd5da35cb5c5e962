"""Tests for tfvidinterp.models: lookup, saving and training behaviour."""

import os

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp import models

# Tiny variants: I3D at width 0.125, a 2-layer C-LSTM with 4 filters.
_TINY = {"i3d": {}, "clstm": {"num_layers": 2}}
_BN_LAYER = {"i3d": "Conv3d_1a_7x7_bn", "clstm": "clstm_1_bn"}


def _tiny(name, **kwargs):
    return testing.tiny_model(name, **_TINY[name], **kwargs)


class ModelsTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Building I3D takes seconds on a CPU; tests share one per model.
        cls.models = {name: _tiny(name, dropout=0.5) for name in _TINY}

    def test_unknown_model_name(self):
        with self.assertRaisesRegex(
            errors.InputError,
            r"^Unknown model 'resnet'; known: \['clstm', 'i3d'\], or "
            "'module:function' of your own$",
        ):
            models.build("resnet", num_classes=3)

    @parameterized.named_parameters(("i3d", "i3d"), ("clstm", "clstm"))
    def test_misspelled_argument(self, name):
        with self.assertRaisesRegex(TypeError, "num_clases"):
            models.build(name, num_clases=3)

    @parameterized.named_parameters(
        ("i3d", "i3d", {}),
        ("clstm", "clstm", {}),
        ("clstm_last", "clstm", {"head": "last", "frames": None}),
    )
    def test_keras_file_round_trip(self, name, kwargs):
        model = _tiny(name, **kwargs) if kwargs else self.models[name]
        videos = testing.tiny_videos()
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        self.assertEqual(loaded.name, name)
        self.assertAllClose(loaded(videos), model(videos), atol=1e-5)

    @parameterized.named_parameters(("i3d", "i3d"), ("clstm", "clstm"))
    def test_training_reduces_loss(self, name):
        model = _tiny(name, dropout=0.0)
        # Batch statistics of only 2 clips make I3D's loss too sharp for a
        # steady descent; 6 clips and a small step descend smoothly.
        videos = testing.tiny_videos(batch=6)
        labels = np.array([0, 1, 2, 0, 1, 2])
        optimizer = keras.optimizers.Adam(1e-4)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def loss():
            return loss_fn(labels, model(videos, training=True))

        initial = float(loss())
        for _ in range(2):
            with tf.GradientTape() as tape:
                value = loss()
            grads = tape.gradient(value, model.trainable_weights)
            self.assertNotIn(None, grads)
            optimizer.apply(grads, model.trainable_weights)
        self.assertLess(float(loss()), initial)

    @parameterized.named_parameters(("i3d", "i3d"), ("clstm", "clstm"))
    def test_batch_norm_follows_training_flag(self, name):
        model = self.models[name]
        moving_mean = model.get_layer(_BN_LAYER[name]).moving_mean
        videos = testing.tiny_videos()
        before = moving_mean.numpy()
        model(videos, training=False)
        self.assertAllEqual(moving_mean, before)
        model(videos, training=True)
        self.assertNotAllClose(moving_mean, before)

    @parameterized.named_parameters(("i3d", "i3d"), ("clstm", "clstm"))
    def test_dropout_only_in_training(self, name):
        model = self.models[name]
        videos = testing.tiny_videos()
        self.assertAllClose(model(videos), model(videos))
        self.assertNotAllClose(
            model(videos, training=True), model(videos, training=True)
        )


if __name__ == "__main__":
    tf.test.main()
