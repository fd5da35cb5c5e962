"""Grad-CAM at several layers and the saliency baseline, in one pass.

Where a Grad-CAM map can point depends on its layer: a deep layer has few
cells (I3D's `Mixed_5c` has 2x2 at 64x64 frames, 7x7 at the paper's 224x224)
but sees the motion; a shallow one has many but sees little. A sweep compares
them on the same clips, against the plain input gradient.
"""

import keras
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import layer_names
from tfvidinterp.interp import logits as logits_lib
from tfvidinterp.interp import saliency


class LayerSweep:
    """Grad-CAM at several layers and the input gradient, in one pass.

    One forward and one backward pass of a batch give the maps of every
    layer in `layers` (with `GradCAM`'s options) and the plain
    input-gradient saliency map (`saliency.input_gradient_maps`), the
    baseline a Grad-CAM layer should beat. For comparing layers: where the
    maps of each layer fall on the same clips.

    Args:
        model: Functional or Sequential video classifier, as for `GradCAM`
            (nested backbones and softmax heads included).
        layers: Names or nested paths of layers with a time axis; default
            `last_per_resolution(model)`.
        **options: `GradCAM`'s `weighting`, `score`, `upsample`,
            `normalize`.

    Example:
        sweep = LayerSweep(model)
        maps = sweep(videos)  # {"Mixed_3c": (batch, T, H, W), ...,
                              #  "input_gradient": (batch, T, H, W)}
    """

    INPUT_GRADIENT = "input_gradient"

    def __init__(self, model: keras.Model, layers=None, **options):
        self.layers = list(layers or last_per_resolution(model))
        if self.INPUT_GRADIENT in self.layers:
            raise errors.InputError(
                f"{self.INPUT_GRADIENT!r} names the saliency baseline, not a "
                "layer"
            )
        self.model = model
        # Maps depend on the options, not the layer: one GradCAM computes
        # every layer's from its activations and gradients.
        self._cam = grad_cam.GradCAM(model, self.layers[0], **options)
        self._grad_model = logits_lib.feature_model(model, self.layers)
        self._maps = tf.function(self._maps_in_graph, reduce_retracing=True)

    def __call__(self, videos, class_ids=None) -> dict:
        """`{layer: maps, ..., "input_gradient": maps}`, each `(batch, T, H,
        W)` float32 in [0, 1], for `class_ids` (None: the predictions)."""
        videos, class_ids = logits_lib.check_inputs(
            self.model, videos, class_ids
        )
        maps = self._maps(videos, class_ids)
        return dict(zip([*self.layers, self.INPUT_GRADIENT], maps))

    def _maps_in_graph(self, videos, class_ids):
        with tf.GradientTape() as tape:
            tape.watch(videos)
            features, logits = self._grad_model(videos, training=False)
            _, scores = grad_cam.explained_scores(
                tf.cast(logits, tf.float32), class_ids, self._cam.score
            )
        # The gradients of the layers' own outputs: a float32 cast of a
        # mixed-precision one is off the path (its gradient None).
        *grads, pixel_grads = tape.gradient(scores, [*features, videos])
        shape = tf.shape(videos)
        return [
            self._cam.maps(
                tf.cast(f, tf.float32), tf.cast(g, tf.float32), shape
            )
            for f, g in zip(features, grads)
        ] + [saliency.input_gradient_maps(pixel_grads)]


def last_per_resolution(model: keras.Model) -> list:
    """The last layer at each spatial resolution, from fine to coarse.

    Among layers with a time axis that compute features (not pooling,
    normalisation, dropout or rescaling): I3D's `Conv3d_1a_7x7`,
    `Conv3d_2c_3x3`, `Mixed_3c`, `Mixed_4f`, `Mixed_5c`; each ConvLSTM2D of
    the C-LSTM; the layers of a nested backbone by path. The layers worth
    comparing in a sweep: deeper layers at the same resolution see more but
    cannot point more finely.

    Raises:
        errors.InputError: A subclassed model, whose layers cannot be read.
    """
    skip = (
        keras.layers.BatchNormalization,
        keras.layers.Dropout,
        keras.layers.Rescaling,
        keras.layers.InputLayer,
    )
    last = {}
    for path, layer in layer_names.layer_paths(model):
        if (
            isinstance(layer, skip)
            or layer_names.is_functional(layer)
            or "Pool" in type(layer).__name__
            or not layer_names.has_time_axis(layer)
        ):
            continue
        last[tuple(layer.output.shape[2:4])] = path
    return list(last.values())
