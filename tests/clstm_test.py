"""Tests for tfvidinterp.models.clstm."""

import os

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.models import clstm


def _num_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


class CLSTMTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("kth_like", 8, 32, 2, "last"), ("ssv2_like", 4, 64, 3, "sequence")
    )
    def test_logits_shape(self, frames, size, num_layers, head):
        model = testing.tiny_model(
            "clstm",
            num_classes=5,
            frames=frames,
            size=size,
            num_layers=num_layers,
            head=head,
        )
        logits = model(testing.tiny_videos(frames=frames, size=size))
        self.assertEqual(logits.shape, (2, 5))

    @parameterized.named_parameters(
        # Stride 2 then 2x2 pooling per layer: 64 -> 32 -> 16 -> 8 -> 4 -> 2.
        ("same", "same", [(32, 32), (8, 8), (2, 2)]),
        # (64 - 5) // 2 + 1 = 30, pooled 15; (15 - 5) // 2 + 1 = 6.
        ("valid", "valid", [(30, 30), (6, 6)]),
    )
    def test_layer_output_shapes(self, padding, sizes):
        model = testing.tiny_model(
            "clstm", size=64, num_layers=len(sizes), padding=padding
        )
        names = [f"clstm_{i}" for i in range(1, len(sizes) + 1)]
        outputs = [model.get_layer(name).output for name in names]
        features = keras.Model(model.input, outputs)(
            testing.tiny_videos(size=64)
        )
        self.assertEqual(
            [f.shape for f in features],
            [(2, 8, h, w, 4) for h, w in sizes],
        )

    def test_last_head_takes_any_clip_length(self):
        model = testing.tiny_model(
            "clstm", frames=None, num_layers=2, head="last"
        )
        self.assertEqual(model(testing.tiny_videos(frames=3)).shape, (2, 3))
        self.assertEqual(model(testing.tiny_videos(frames=9)).shape, (2, 3))

    @parameterized.named_parameters(
        # 32 px, 2 layers: 2x2 positions x 4 filters per step, 8 steps.
        ("sequence", "sequence", 8 * 2 * 2 * 4),
        ("last", "last", 2 * 2 * 4),
    )
    def test_head_sets_classifier_inputs(self, head, features):
        model = testing.tiny_model("clstm", num_layers=2, head=head)
        self.assertEqual(model.get_layer("Logits").kernel.shape, (features, 3))

    def test_ssv2_parameter_count(self):
        model = clstm.build(174, num_frames=16, image_size=224)
        count = _num_trainable(model)
        # The paper's 1,324,014 is this model with one BN layer instead of 3
        # (each has 64 trainable parameters).
        self.assertEqual(count, 1_324_142)
        self.assertLess(abs(count - 1_324_014) / 1_324_014, 1e-3)

    def test_reference_tf_parameter_count(self):
        model = clstm.build(174, num_frames=16, image_size=224, padding="valid")
        self.assertEqual(_num_trainable(model), 878_702)

    def test_recurrent_activation_is_passed_through(self):
        model = testing.tiny_model(
            "clstm", num_layers=2, recurrent_activation="hard_sigmoid"
        )
        for name in ("clstm_1", "clstm_2"):
            config = model.get_layer(name).get_config()
            self.assertEqual(config["recurrent_activation"], "hard_sigmoid")

    def test_frozen_batch_norm_is_affine_and_keeps_its_statistics(self):
        model = testing.tiny_model("clstm", num_layers=2, batch_norm="frozen")
        norm = model.get_layer("clstm_1_bn")
        channels = norm.gamma.shape[0]
        norm.gamma.assign(np.full(channels, 2.0, np.float32))
        norm.beta.assign(np.full(channels, 0.5, np.float32))
        inputs = tf.random.normal((2, 8, 4, 4, channels), 3.0, 2.0)
        expected = 2.0 * inputs / np.sqrt(1.0 + norm.epsilon) + 0.5
        for training in (True, False):
            self.assertAllClose(
                norm(inputs, training=training), expected, atol=1e-5
            )
        self.assertAllClose(norm.moving_mean, np.zeros(channels))
        self.assertAllClose(norm.moving_variance, np.ones(channels))

    def test_frozen_batch_norm_keeps_the_parameter_count(self):
        frozen = clstm.build(
            174, num_frames=16, image_size=224, batch_norm="frozen"
        )
        self.assertEqual(_num_trainable(frozen), 1_324_142)

    def test_frozen_batch_norm_survives_keras_round_trip(self):
        model = testing.tiny_model("clstm", num_layers=2, batch_norm="frozen")
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        self.assertIsInstance(
            loaded.get_layer("clstm_2_bn"), clstm.FrozenBatchNormalization
        )
        videos = testing.tiny_videos()
        self.assertAllClose(loaded(videos), model(videos), atol=1e-5)

    @parameterized.named_parameters(
        ("head", {"head": "mean"}, "Unknown C-LSTM head 'mean'"),
        (
            "batch_norm",
            {"batch_norm": "group"},
            "Unknown C-LSTM batch_norm 'group'",
        ),
        ("frames", {"num_frames": None}, "needs a static num_frames"),
        ("no_size", {"image_size": None}, "needs a static image_size"),
        ("size", {"image_size": 32}, "too small for 3 C-LSTM layers"),
    )
    def test_bad_arguments(self, kwargs, message):
        kwargs = {"num_frames": 8, "image_size": 64, **kwargs}
        with self.assertRaisesRegex(errors.InputError, message):
            clstm.build(3, filters=4, **kwargs)


if __name__ == "__main__":
    tf.test.main()
