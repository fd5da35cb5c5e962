"""Tests for tfvidinterp.interp.saliency and tfvidinterp.interp.layer_sweep."""

import keras
import numpy as np
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import layer_sweep
from tfvidinterp.interp import saliency


def pixel_model(frames=4, size=4):
    """Logit 0 = 2 * pixel (frame 1, row 2, col 3, green) - the red one."""
    inputs = keras.Input((frames, size, size, 3))
    dense = keras.layers.Dense(2)
    logits = dense(keras.layers.Flatten()(inputs))
    kernel = np.zeros((frames, size, size, 3, 2), np.float32)
    kernel[1, 2, 3, 1, 0] = 2.0
    kernel[1, 2, 3, 0, 0] = -1.0
    kernel[0, 0, 0, 0, 1] = 0.5
    dense.set_weights([kernel.reshape(-1, 2), np.zeros(2, np.float32)])
    return keras.Model(inputs, logits)


class SaliencyTest(tf.test.TestCase):
    def test_known_gradient_of_a_linear_model(self):
        # The gradient of logit 0 is the kernel: |2| beats |-1| at one pixel.
        video = np.full((1, 4, 4, 4, 3), 100.0, np.float32)
        maps = saliency.InputGradient(pixel_model())(video, [0]).numpy()
        expected = np.zeros((1, 4, 4, 4), np.float32)
        expected[0, 1, 2, 3] = 1.0
        self.assertAllClose(maps, expected)
        # Logit 1 is the prediction when the green pixel is dark.
        video[0, 1, 2, 3] = 0.0
        maps = saliency.InputGradient(pixel_model())(video).numpy()
        self.assertEqual(np.argwhere(maps[0] == 1.0).tolist(), [[0, 0, 0]])

    def test_input_gradient_maps_normalise_per_clip(self):
        grads = np.zeros((2, 2, 2, 2, 3), np.float32)
        grads[0, 0, 0, 0] = [-4.0, 1.0, 0.0]
        grads[0, 1, 1, 1] = [0.0, 2.0, 0.0]
        maps = saliency.input_gradient_maps(grads).numpy()
        self.assertAllClose(maps[0, 0, 0, 0], 1.0)
        self.assertAllClose(maps[0, 1, 1, 1], 0.5)
        self.assertAllEqual(maps[1], np.zeros((2, 2, 2)))  # No NaN.


class LayerSweepTest(tf.test.TestCase):
    def test_last_layer_at_each_resolution(self):
        i3d = testing.tiny_model("i3d", frames=4, size=64)
        self.assertEqual(
            layer_sweep.last_per_resolution(i3d),
            [
                "Conv3d_1a_7x7",
                "Conv3d_2c_3x3",
                "Mixed_3c",
                "Mixed_4f",
                "Mixed_5c",
            ],
        )
        clstm = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        self.assertEqual(
            layer_sweep.last_per_resolution(clstm), ["clstm_1", "clstm_2"]
        )

    def test_one_pass_equals_each_method_alone(self):
        model = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        videos = testing.tiny_videos(batch=2, frames=4, size=32)
        sweep = layer_sweep.LayerSweep(model, weighting="clip")
        maps = sweep(videos, [1, 2])
        self.assertEqual(list(maps), ["clstm_1", "clstm_2", "input_gradient"])
        for layer in ("clstm_1", "clstm_2"):
            alone = grad_cam.GradCAM(model, layer, weighting="clip")
            self.assertAllClose(maps[layer], alone(videos, [1, 2]), atol=1e-5)
        self.assertAllClose(
            maps["input_gradient"],
            saliency.InputGradient(model)(videos, [1, 2]),
            atol=1e-5,
        )
        self.assertEqual(maps["clstm_2"].shape, (2, 4, 32, 32))

    def test_errors(self):
        model = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        with self.assertRaisesRegex(errors.InputError, "has no layer 'x'"):
            layer_sweep.LayerSweep(model, ["x"])
        with self.assertRaisesRegex(
            errors.InputError, "names the saliency baseline"
        ):
            layer_sweep.LayerSweep(model, ["input_gradient"])


if __name__ == "__main__":
    tf.test.main()
