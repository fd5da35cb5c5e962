import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp.models import pooling


class ShiftedMaxPooling3DTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(
        ((2, 7, 9, 10, 3), 3, 1),  # I3D's branch pools.
        ((2, 7, 9, 10, 3), 3, 2),
        ((1, 8, 8, 8, 2), 2, 2),  # MaxPool3d_5a_2x2.
        ((2, 5, 11, 6, 2), (1, 3, 3), (1, 2, 2)),  # MaxPool3d_2a_3x3.
        ((1, 4, 6, 7, 2), 3, 2),  # Odd sizes: uneven SAME padding.
    )
    def test_equals_max_pooling_and_its_gradient(self, shape, size, stride):
        rng = np.random.default_rng(0)
        # Continuous values: no ties, whose gradient each pooling may route
        # to a different input.
        x = tf.constant(rng.normal(size=shape).astype("f4"))
        reference = keras.layers.MaxPooling3D(size, stride, padding="same")
        weights = tf.constant(rng.normal(size=reference(x).shape).astype("f4"))

        def pooled_and_gradient(layer, x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                value = tf.reduce_sum(y * weights)
            return y, tape.gradient(value, x)

        layer = pooling.ShiftedMaxPooling3D(size, stride)
        got, grad = tf.function(pooled_and_gradient)(layer, x)
        want, want_grad = pooled_and_gradient(reference, x)
        self.assertAllEqual(got, want)
        self.assertEqual(layer.compute_output_shape(shape), want.shape)
        # The gradients sum a position's windows in another order.
        self.assertAllClose(grad, want_grad, atol=1e-5)

    def test_any_clip_length(self):
        inputs = keras.Input((None, 6, 6, 2))
        pool = pooling.ShiftedMaxPooling3D(3, 2)
        model = keras.Model(inputs, pool(inputs))
        for frames in (3, 4):
            x = np.random.default_rng(frames).normal(size=(1, frames, 6, 6, 2))
            want = keras.layers.MaxPooling3D(3, 2, padding="same")(x)
            self.assertAllEqual(model(x.astype("f4")), want)
