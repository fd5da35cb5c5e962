import os

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp.models import normalization


def _pair(policy, shape, **kwargs):
    """The fused layer and Keras's, built under `policy` with equal random
    scale and offset, and an input."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        ours = normalization.BatchNormalization(**kwargs)
        theirs = keras.layers.BatchNormalization(**kwargs)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    ours.build(shape)
    theirs.build(shape)
    rng = np.random.default_rng(0)
    ours.set_weights(
        [rng.uniform(0.5, 1.5, w.shape).astype("f4") for w in ours.weights]
    )
    theirs.set_weights(ours.get_weights())
    x = tf.constant((rng.normal(size=shape) * 2 + 1).astype("f4"))
    return ours, theirs, x


def _apply(layer, x, training):
    """Output, input gradient and variable gradients of a weighted sum."""
    weights = tf.range(x.shape[-1], dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        value = tf.reduce_sum(tf.cast(y, "float32") * weights)
    gradients = tape.gradient(value, [x] + layer.trainable_weights)
    return y, gradients


class BatchNormalizationTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(True, False)
    def test_float32_is_keras_exactly(self, training):
        ours, theirs, x = _pair("float32", (2, 3, 4, 5, 6), momentum=0.9)
        got, got_grads = _apply(ours, x, training)
        want, want_grads = _apply(theirs, x, training)
        self.assertAllEqual(got, want)
        for a, b in zip(got_grads, want_grads):
            self.assertAllEqual(a, b)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            self.assertAllEqual(a, b)

    @parameterized.parameters(
        (True, (2, 3, 4, 5, 6)),
        (False, (2, 3, 4, 5, 6)),
        (True, (3, 4, 5, 6)),  # 4D: a C-LSTM frame's feature map.
    )
    def test_bfloat16_matches_keras(self, training, shape):
        ours, theirs, x = _pair(
            "mixed_bfloat16", shape, momentum=0.9, epsilon=1e-3
        )
        start = ours.moving_variance.numpy()
        got, got_grads = _apply(ours, x, training)
        want, want_grads = _apply(theirs, x, training)
        self.assertEqual(got.dtype, tf.bfloat16)
        # Both normalise in float32 and round once to bfloat16.
        self.assertAllClose(
            tf.cast(got, "float32"), tf.cast(want, "float32"), atol=1e-2
        )
        for a, b in zip(got_grads, want_grads):
            self.assertAllClose(a, b, rtol=2e-2, atol=2e-2)
        # Moving statistics: the biased batch variance, as Keras's.
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            self.assertAllClose(a, b, rtol=1e-6, atol=1e-6)
        moved = not np.array_equal(ours.moving_variance.numpy(), start)
        self.assertEqual(moved, training)

    def test_fused_in_bfloat16_only(self):
        def op_types(policy):
            layer, _, x = _pair(policy, (2, 3, 4, 5, 6))
            graph = (
                tf.function(lambda x: layer(x, training=True))
                .get_concrete_function(x)
                .graph
            )
            return {op.type for op in graph.get_operations()}

        self.assertIn("FusedBatchNormV3", op_types("mixed_bfloat16"))
        self.assertNotIn("FusedBatchNormV3", op_types("float32"))

    def test_without_scale_and_center(self):
        ours, theirs, x = _pair(
            "mixed_bfloat16", (2, 3, 4, 5, 6), scale=False, center=False
        )
        got, _ = _apply(ours, x, True)
        want, _ = _apply(theirs, x, True)
        self.assertAllClose(
            tf.cast(got, "float32"), tf.cast(want, "float32"), atol=1e-2
        )

    def test_saves_and_loads(self):
        inputs = keras.Input((3, 4, 5, 6))
        model = keras.Model(
            inputs, normalization.BatchNormalization(name="bn")(inputs)
        )
        path = os.path.join(self.get_temp_dir(), "m.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        self.assertIsInstance(
            loaded.get_layer("bn"), normalization.BatchNormalization
        )
