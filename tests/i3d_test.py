"""Tests for tfvidinterp.models.i3d."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp.models import i3d


def _num_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _endpoint(model, name, videos):
    return keras.Model(model.input, model.get_layer(name).output)(videos)


class I3DTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Building I3D takes seconds on a CPU; most tests share one.
        cls.model = testing.tiny_model(
            "i3d", num_classes=5, frames=None, size=None
        )

    @parameterized.named_parameters(
        ("short", 4, 16), ("long", 8, 32), ("odd", 7, 40)
    )
    def test_logits_shape(self, frames, size):
        logits = self.model(testing.tiny_videos(frames=frames, size=size))
        self.assertEqual(logits.shape, (2, 5))

    def test_mixed_5c_keeps_half_the_frames(self):
        videos = testing.tiny_videos(frames=16)
        features = _endpoint(self.model, "Mixed_5c", videos)
        self.assertEqual(features.shape, (2, 8, 1, 1, 128))  # 1024 / 8.

    def test_original_strides_keep_an_eighth(self):
        model = testing.tiny_model(
            "i3d", frames=16, size=(32, 64), original_strides=True
        )
        self.assertEqual(model.input.shape, (None, 16, 32, 64, 3))
        videos = np.zeros((2, 16, 32, 64, 3), np.float32)
        features = _endpoint(model, "Mixed_5c", videos)
        self.assertEqual(features.shape, (2, 2, 1, 2, 128))

    def test_endpoints_are_layers_in_order(self):
        names = [layer.name for layer in self.model.layers]
        self.assertEqual(
            [name for name in names if name in i3d.ENDPOINTS],
            list(i3d.ENDPOINTS),
        )
        first = _endpoint(self.model, "Conv3d_1a_7x7", testing.tiny_videos())
        self.assertEqual(first.shape, (2, 8, 16, 16, 8))  # 64 * 0.125.

    def test_input_is_rescaled_inside(self):
        self.assertEqual(self.model.input.name, "frames")
        rescale = self.model.get_layer("rescale")
        self.assertAllClose(rescale(np.array([0.0, 127.5, 255.0])), [-1, 0, 1])

    @parameterized.named_parameters(
        ("ssv2", 174, 12_465_614), ("kth", 6, 12_293_414)
    )
    def test_parameter_count_matches_paper(self, num_classes, expected):
        model = i3d.build(num_classes, num_frames=16, image_size=224)
        self.assertEqual(_num_trainable(model), expected)

    def test_bn_momentum_sets_every_moving_average(self):
        model = i3d.build(3, width=0.0625, bn_momentum=0.9)
        norms = [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        self.assertLen(norms, 57)  # 3 stem units + 9 blocks x 6.
        videos = testing.tiny_videos(frames=4, size=32)
        model(videos, training=True)
        # One training call moves each mean 10 % of the way (0.99: 1 %).
        stem = model.get_layer("Conv3d_1a_7x7_bn")
        batch_mean = (
            keras.Model(
                model.input, model.get_layer("Conv3d_1a_7x7_conv").output
            )(videos)
            .numpy()
            .mean((0, 1, 2, 3))
        )
        self.assertAllClose(stem.moving_mean, 0.1 * batch_mean, atol=1e-5)

    def test_mixed_precision_keeps_float32_logits(self):
        # mixed_float16 has no MaxPool3D kernel on CPU; the policy logic is
        # the same for bfloat16.
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        self.addCleanup(keras.mixed_precision.set_dtype_policy, "float32")
        model = testing.tiny_model("i3d")
        videos = testing.tiny_videos()
        features = _endpoint(model, "Mixed_5c", videos)
        self.assertEqual(features.dtype, "bfloat16")
        self.assertEqual(model(videos).dtype, "float32")


if __name__ == "__main__":
    tf.test.main()
