"""The explainers on video models that are not ours: subclassed, softmax
heads, nested backbones, Sequential, TimeDistributed CNN + LSTM."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp import interp
from tfvidinterp.interp import layer_names

FRAMES, SIZE = 6, 8
SHAPE = (FRAMES, SIZE, SIZE, 3)
VIDEOS = testing.tiny_videos(batch=2, frames=FRAMES, size=SIZE)


class SubclassedNet(keras.Model):
    """A Conv3D classifier written as a subclass: no `model.input`."""

    def __init__(self, softmax=False):
        super().__init__()
        self.softmax = softmax
        self.scale = keras.layers.Rescaling(1.0 / 255)
        self.conv = keras.layers.Conv3D(4, 3, padding="same", name="conv")
        self.relu = keras.layers.ReLU(name="features")
        self.pool = keras.layers.GlobalAveragePooling3D()
        self.head = keras.layers.Dense(3)

    def features(self, videos):
        return self.relu(self.conv(self.scale(videos)))

    def classify(self, features):
        logits = self.head(self.pool(features))
        return keras.ops.softmax(logits) if self.softmax else logits

    def call(self, videos):
        return self.classify(self.features(videos))


def _subclassed(softmax=False):
    keras.utils.set_random_seed(0)
    net = SubclassedNet(softmax)
    net(np.zeros((1, *SHAPE), np.float32))
    # The same layers as a graph, for known answers.
    inputs = keras.Input(SHAPE)
    twin = keras.Model(inputs, net.classify(net.features(inputs)))
    return net, twin


def _softmax_head(kind):
    """(softmax model, logits model with the same weights)."""
    keras.utils.set_random_seed(0)
    body = [
        keras.layers.Rescaling(1.0 / 255),
        keras.layers.Conv3D(4, 3, padding="same", activation="relu", name="c"),
        keras.layers.GlobalAveragePooling3D(),
    ]
    if kind == "dense":  # Functional; Dense(activation="softmax").
        x = inputs = keras.Input(SHAPE)
        for layer in body:
            x = layer(x)
        dense = keras.layers.Dense(3, activation="softmax")
        linear = keras.layers.Dense(3)
        model = keras.Model(inputs, dense(x))
        twin = keras.Model(inputs, linear(x))
        linear.set_weights(dense.get_weights())
        return model, twin
    # Sequential (2+1)-D ending in Activation("softmax").
    body[1:2] = [
        keras.layers.Conv3D(4, (1, 3, 3), padding="same", activation="relu"),
        keras.layers.Conv3D(4, (3, 1, 1), padding="same", name="temporal"),
    ]
    layers = [keras.Input(SHAPE), *body, keras.layers.Dense(3)]
    twin = keras.Sequential(layers)
    return keras.Sequential([*layers, keras.layers.Activation("softmax")]), twin


def _nested():
    """TimeDistributed 2-D CNN backbone nested in a CNN + LSTM classifier,
    and the same layers as one flat model."""
    keras.utils.set_random_seed(0)
    conv1 = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
    conv2 = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    td1 = keras.layers.TimeDistributed(conv1, name="td_conv1")
    td2 = keras.layers.TimeDistributed(conv2, name="td_conv2")
    head = [
        keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D()),
        keras.layers.LSTM(5),
        keras.layers.Dense(3),
    ]
    scale = keras.layers.Rescaling(1.0 / 255)
    frames = keras.Input(SHAPE)
    backbone = keras.Model(frames, td2(td1(frames)), name="backbone")
    models = []
    for trunk in ([backbone], [td1, td2]):
        x = inputs = keras.Input(SHAPE)
        for layer in [scale, *trunk, *head]:
            x = layer(x)
        models.append(keras.Model(inputs, x))
    return models


class ForeignModelsTest(tf.test.TestCase, parameterized.TestCase):
    def _check_cam(self, cam, videos):
        maps = cam(videos).numpy()
        self.assertEqual(maps.shape, (2, *SHAPE[:3]))
        self.assertAllInRange(maps, 0.0, 1.0)
        self.assertGreater(maps.max(), 0.0)
        for i in range(2):  # Each clip alone gives its map in the batch.
            self.assertAllClose(cam(videos[i : i + 1])[0], maps[i], atol=1e-5)
        return maps

    def _check_masks(self, model, videos, alone=True):
        """Both perturbations: shapes, ranges, batch equals single."""
        freeze = interp.TemporalMaskExplainer(
            model, iterations=6, learning_rate=0.2
        )
        results = {}
        for kind in ("freeze", "reverse"):
            explainer = freeze.with_perturbation(kind)
            out = results[kind] = explainer(videos, class_ids=[0, 2])
            self.assertEqual(out["mask"].shape, (2, FRAMES))
            self.assertAllInRange(out["mask"], 0.0, 1.0)
            self.assertAllInRange(out[f"{kind}_score"], 0.0, 1.0)
            for i in range(2 if alone else 0):
                one = explainer(videos[i : i + 1], class_ids=[[0, 2][i]])
                self.assertAllClose(one["mask"][0], out["mask"][i], atol=1e-4)
        return results

    def test_subclassed_model(self):
        net, twin = _subclassed()
        with self.assertRaisesRegex(errors.InputError, "from_functions"):
            interp.GradCAM(net)
        cam = interp.GradCAM.from_functions(net.features, net.classify)
        maps = self._check_cam(cam, VIDEOS)
        self.assertEqual(layer_names.default_layer(twin), "features")
        self.assertAllClose(maps, interp.GradCAM(twin)(VIDEOS), atol=1e-5)
        masks = self._check_masks(net, VIDEOS)
        for kind, twin_masks in self._check_masks(twin, VIDEOS, False).items():
            self.assertAllClose(
                masks[kind]["mask"], twin_masks["mask"], atol=1e-4
            )
        gradient = interp.InputGradient(net)(VIDEOS)
        self.assertAllClose(gradient, interp.InputGradient(twin)(VIDEOS))

    def test_subclassed_softmax_is_refused(self):
        net, _ = _subclassed(softmax=True)
        message = "returns probabilities .* pass a model whose call"
        for explain in (
            interp.GradCAM.from_functions(net.features, net.classify),
            interp.TemporalMaskExplainer(net, iterations=1),
            interp.InputGradient(net),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                explain(VIDEOS)
        with self.assertRaisesRegex(errors.InputError, message):
            interp.DeletionInsertion(net)(VIDEOS[0], [range(FRAMES)], 0)

    def test_softmax_of_another_layer_is_refused(self):
        inputs = keras.Input(SHAPE)
        x = keras.layers.GlobalAveragePooling3D()(inputs)
        head = keras.layers.EinsumDense(
            "bc,cd->bd", 3, activation="softmax", name="probs"
        )
        model = keras.Model(inputs, head(x), name="foreign")
        message = (
            "'foreign' ends in the softmax activation of EinsumDense "
            "'probs'.*pass a model that returns them"
        )
        for explainer in (interp.logits_model, interp.TemporalMaskExplainer):
            with self.assertRaisesRegex(errors.InputError, message):
                explainer(model)

    @parameterized.named_parameters(
        ("functional_dense", "dense", "c"),
        ("sequential_activation", "activation", "temporal"),
    )
    def test_softmax_head_is_explained_on_its_logits(self, kind, layer):
        model, twin = _softmax_head(kind)
        logits = interp.logits_model(model)
        self.assertAllClose(logits(VIDEOS), twin(VIDEOS), atol=1e-5)
        self.assertAllClose(model(VIDEOS), tf.nn.softmax(twin(VIDEOS)))
        cam = interp.GradCAM(model)
        self.assertEqual(cam.layer, layer)
        maps = self._check_cam(cam, VIDEOS)
        self.assertAllClose(maps, interp.GradCAM(twin)(VIDEOS), atol=1e-5)
        masks = self._check_masks(model, VIDEOS)
        for name, twin_masks in self._check_masks(twin, VIDEOS, False).items():
            for key in ("mask", "freeze_score", "reverse_score"):
                self.assertAllClose(
                    masks[name][key], twin_masks[key], atol=1e-4
                )
        curves = [
            interp.DeletionInsertion(m)(VIDEOS[0], [range(6)], 1)
            for m in (model, twin)
        ]
        self.assertAllClose(*curves, atol=1e-6)
        # The logits share the variables: a bias moved by 1 moves them by 1.
        before = logits(VIDEOS)
        dense = model.layers[-1 if kind == "dense" else -2]
        dense.bias.assign_add(np.ones(3, np.float32))
        self.assertAllClose(logits(VIDEOS), before + 1.0, atol=1e-5)

    def test_backbone_ending_in_softmax(self):
        inner, twin = _softmax_head("dense")
        inputs = keras.Input(SHAPE)
        outer = keras.Model(inputs, inner(inputs))
        logits = interp.logits_model(outer)
        self.assertAllClose(logits(VIDEOS), twin(VIDEOS), atol=1e-5)
        cam = interp.GradCAM(outer)
        self.assertEqual(cam.layer, f"{inner.name}/c")
        maps = interp.GradCAM(twin)(VIDEOS)
        self.assertAllClose(cam(VIDEOS), maps, atol=1e-5)
        gradient = interp.InputGradient(outer)(VIDEOS)
        self.assertAllClose(gradient, interp.InputGradient(twin)(VIDEOS))

    def test_nested_td_cnn_lstm_grad_cam(self):
        nested, flat = _nested()
        self.assertEqual(layer_names.default_layer(nested), "backbone/td_conv2")
        self.assertEqual(layer_names.default_layer(flat), "td_conv2")
        cam = interp.GradCAM(nested)
        maps = self._check_cam(cam, VIDEOS)
        self.assertAllClose(maps, interp.GradCAM(flat)(VIDEOS), atol=1e-5)
        inner = interp.GradCAM(nested, "backbone/td_conv1")(VIDEOS)
        self.assertAllClose(
            inner, interp.GradCAM(flat, "td_conv1")(VIDEOS), atol=1e-5
        )
        sweep = interp.LayerSweep(nested)(VIDEOS)
        self.assertEqual(
            list(sweep),
            ["backbone/td_conv1", "backbone/td_conv2", "input_gradient"],
        )
        self.assertAllClose(sweep["backbone/td_conv1"], inner, atol=1e-5)
        with self.assertRaisesRegex(errors.InputError, "'backbone/x'"):
            interp.GradCAM(nested, "backbone/x")

    def test_nested_td_cnn_lstm_masks(self):
        nested, flat = _nested()
        masks = self._check_masks(nested, VIDEOS)
        for kind, flat_masks in self._check_masks(flat, VIDEOS, False).items():
            self.assertAllClose(
                masks[kind]["mask"], flat_masks["mask"], atol=1e-4
            )


if __name__ == "__main__":
    tf.test.main()
