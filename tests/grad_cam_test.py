"""Tests for tfvidinterp.interp.grad_cam."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import layer_names


def _linear_model(frames, height, width, dense_kernel, pool_time=1):
    """videos -> 'features' (x and -x, or their time average) -> linear logits.

    The logits are linear in the features, so dF/dA is the Dense kernel,
    `dense_kernel` of shape (T', height, width, 2, classes).
    """
    inputs = keras.Input((frames, height, width, 1))
    x = keras.layers.Conv3D(2, 1, use_bias=False, name="conv")(inputs)
    x = keras.layers.AveragePooling3D((pool_time, 1, 1), name="features")(x)
    x = keras.layers.Flatten(name="flat")(x)
    logits = keras.layers.Dense(dense_kernel.shape[-1], name="Logits")(x)
    model = keras.Model(inputs, logits)
    model.get_layer("conv").set_weights([np.array([[[[[1.0, -1.0]]]]])])
    classes = dense_kernel.shape[-1]
    model.get_layer("Logits").set_weights(
        [dense_kernel.reshape(-1, classes), np.zeros(classes)]
    )
    return model


def _kernel(per_step, shape):
    """Dense kernel (T', h, w, 2, classes) constant over space."""
    per_step = np.asarray(per_step, np.float32)  # (T', 2, classes)
    steps, height, width = shape
    return np.broadcast_to(
        per_step[:, None, None], (steps, height, width) + per_step.shape[1:]
    ).copy()


class GradCAMTest(tf.test.TestCase, parameterized.TestCase):
    def test_channel_weights_per_time_step_and_per_clip(self):
        grads = np.zeros((1, 2, 3, 4, 2), np.float32)  # T != H != W.
        grads[0, 0, ..., 0] = 1.0
        grads[0, 1, ..., 0] = 2.0
        grads[0, 0, ..., 1] = np.arange(12.0).reshape(3, 4)
        time = grad_cam.GradCAM.channel_weights(grads, weighting="time")
        clip = grad_cam.GradCAM.channel_weights(grads, weighting="clip")
        self.assertEqual(time.shape, (1, 2, 1, 1, 2))
        self.assertAllClose(tf.reshape(time, [2, 2]), [[1.0, 5.5], [2.0, 0]])
        self.assertEqual(clip.shape, (1, 1, 1, 1, 2))
        self.assertAllClose(tf.reshape(clip, [2]), [1.5, 2.75])

    @parameterized.parameters("time", "clip")
    def test_hand_computed_map(self, weighting):
        frames, height, width = 3, 4, 5
        # Class 0 weighs x by [1, 1, -0.5] per frame (clip mean: 0.5); class
        # 1 by -1 everywhere, so its map is all zero.
        kernel = _kernel(
            [
                [[1.0, -1.0], [0.0, 0.0]],
                [[2.0, -1.0], [1.0, 0.0]],
                [[0.5, -1.0], [1.0, 0.0]],
            ],
            (frames, height, width),
        )
        model = _linear_model(frames, height, width, kernel)
        videos = (
            np.random.default_rng(0)
            .uniform(1.0, 2.0, (1, frames, height, width, 1))
            .astype(np.float32)
        )
        videos[0, 0, 1] = 0.0  # Zero activations: a zero map there.
        cam = grad_cam.GradCAM(model, layer="features", weighting=weighting)
        out = cam.explain(videos, class_ids=[0])
        x = videos[0, ..., 0]
        if weighting == "time":
            expected = np.maximum(x * np.array([1, 1, -0.5])[:, None, None], 0)
        else:
            expected = 0.5 * x
        expected /= expected.max()
        self.assertAllClose(out["heatmaps"][0], expected, atol=1e-6)
        self.assertAllEqual(out["heatmaps"][0, 0, 1], np.zeros(width))
        self.assertAllEqual(out["class_ids"], [0])
        self.assertAllClose(out["scores"], out["logits"][:, 0])
        zero = cam(videos, class_ids=[1])
        self.assertAllEqual(zero, np.zeros((1, frames, height, width)))
        if weighting == "time":
            # Two classes: d p0 / dA = p0 p1 (K0 - K1), i.e. x * [2, 2, 0.5];
            # small inputs keep the softmax away from saturation.
            cam = grad_cam.GradCAM(model, "features", score="probability")
            out = cam.explain(videos * 0.01, class_ids=[0])
            expected = x * np.array([2, 2, 0.5])[:, None, None]
            self.assertAllClose(
                out["heatmaps"][0], expected / expected.max(), atol=1e-6
            )
            probs = tf.nn.softmax(out["logits"])
            self.assertAllClose(out["scores"], probs[:, 0])

    @parameterized.named_parameters(
        ("linear_clip", "linear", "clip", [0.0, 0.25, 0.75, 1.0]),
        ("nearest_clip", "nearest", "clip", [0.0, 0.0, 1.0, 1.0]),
        # Each frame is constant: nothing to locate, so zero (not NaN).
        ("linear_frame", "linear", "frame", [0.0, 0.0, 0.0, 0.0]),
    )
    def test_time_upsampling_of_two_step_map(self, upsample, normalize, want):
        kernel = _kernel(np.ones((2, 2, 1)) * [[1.0], [0.0]], (2, 2, 3))
        model = _linear_model(4, 2, 3, kernel, pool_time=2)
        videos = np.ones((1, 4, 2, 3, 1), np.float32)
        videos[0, 2:] = 3.0  # Step maps: 1 and 3.
        heatmaps = grad_cam.GradCAM(
            model, "features", upsample=upsample, normalize=normalize
        )(videos)
        self.assertEqual(heatmaps.shape, (1, 4, 2, 3))
        self.assertAllClose(heatmaps[0, :, 1, 2], want)
        self.assertAllClose(np.ptp(heatmaps, axis=(2, 3)), np.zeros((1, 4)))

    def test_time_matrix(self):
        self.assertAllClose(
            grad_cam.time_matrix(4, 2, "linear"),
            [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]],
        )
        self.assertAllClose(
            grad_cam.time_matrix(4, 2, "nearest"),
            [[1, 0], [1, 0], [0, 1], [0, 1]],
        )
        self.assertAllClose(grad_cam.time_matrix(3, 3), np.eye(3))

    @parameterized.named_parameters(
        ("i3d", "i3d", {}, "Mixed_5c", 4, 2),
        ("clstm", "clstm", {"num_layers": 2}, "clstm_2", 6, 6),
    )
    def test_heatmap_matches_input(self, name, kwargs, layer, frames, steps):
        model = testing.tiny_model(name, frames=frames, size=16, **kwargs)
        self.assertEqual(layer_names.default_layer(model), layer)
        self.assertEqual(model.get_layer(layer).output.shape[1], steps)
        videos = testing.tiny_videos(batch=2, frames=frames, size=16)
        heatmaps = grad_cam.GradCAM(model)(videos)
        self.assertEqual(heatmaps.shape, (2, frames, 16, 16))
        self.assertAllInRange(heatmaps, 0.0, 1.0)
        self.assertFalse(np.isnan(heatmaps).any())

    def test_traces_once_for_every_batch_size(self):
        model = _linear_model(2, 3, 4, _kernel(np.ones((2, 2, 2)), (2, 3, 4)))
        cam = grad_cam.GradCAM(model, "features")
        videos = np.ones((3, 2, 3, 4, 1), np.float32)
        for batch in (3, 1, 2, 3, 1):
            self.assertEqual(cam(videos[:batch]).shape, (batch, 2, 3, 4))
        self.assertEqual(cam._explain.experimental_get_tracing_count(), 1)

    def test_mixed_bfloat16_model_gives_the_float32_maps(self):
        model = testing.tiny_model("i3d")
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            low = testing.tiny_model("i3d")
        finally:
            keras.mixed_precision.set_global_policy("float32")
        low.set_weights(model.get_weights())
        videos = testing.tiny_videos()
        want = grad_cam.GradCAM(model)(videos)
        got = grad_cam.GradCAM(low)(videos)
        self.assertEqual(got.dtype, tf.float32)
        # bfloat16 keeps 8 bits of mantissa: measured 0.03 apart at most.
        self.assertAllClose(got, want, atol=0.1)
        correlation = np.corrcoef(np.ravel(got), np.ravel(want))[0, 1]
        self.assertGreater(correlation, 0.99)

    def test_default_layer_of_i3d(self):
        model = testing.tiny_model("i3d", frames=4, size=16)
        self.assertEqual(layer_names.default_layer(model), "Mixed_5c")
        with self.assertRaisesRegex(errors.InputError, "Mixed_9z.*Mixed_5c"):
            grad_cam.GradCAM(model, layer="Mixed_9z")

    def test_errors(self):
        model = _linear_model(2, 3, 4, _kernel(np.ones((2, 2, 2)), (2, 3, 4)))
        # No Mixed_5c or ConvLSTM2D: the last layer with time and space.
        self.assertEqual(grad_cam.GradCAM(model).layer, "features")
        with self.assertRaisesRegex(errors.InputError, "'mixed'.*'features'"):
            grad_cam.GradCAM(model, layer="mixed")
        with self.assertRaisesRegex(errors.InputError, "'Logits'.*time axis"):
            grad_cam.GradCAM(model, layer="Logits")
        with self.assertRaisesRegex(errors.InputError, "weighting 'frame'"):
            grad_cam.GradCAM(model, "features", weighting="frame")
        cam = grad_cam.GradCAM(model, "features")
        videos = np.ones((2, 2, 3, 4, 1), np.float32)
        with self.assertRaisesRegex(errors.InputError, r"class_ids \[0, 2\]"):
            cam(videos, class_ids=[0, 2])
        with self.assertRaisesRegex(errors.InputError, "do not fit"):
            cam(np.ones((2, 3, 3, 4, 1), np.float32))


if __name__ == "__main__":
    tf.test.main()
