"""Plain input-gradient saliency: the baseline a Grad-CAM layer should beat.

Simonyan et al., "Deep Inside Convolutional Networks: Visualising Image
Classification Models and Saliency Maps", ICLR 2014 workshop,
https://arxiv.org/abs/1312.6034: the magnitude of the class score's gradient
with respect to each input pixel, the maximum over colour channels, here per
frame of a video. `layer_sweep.LayerSweep` computes it in the same pass as
Grad-CAM at several layers.
"""

import keras
import tensorflow as tf

from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import logits as logits_lib


def input_gradient_maps(grads) -> tf.Tensor:
    """`(batch, T, H, W, 3)` input gradients -> `(batch, T, H, W)` maps:
    the largest magnitude over colour channels, min-max normalised per clip
    (an all-zero gradient stays zero)."""
    maps = tf.reduce_max(tf.abs(grads), axis=-1)
    low = tf.reduce_min(maps, axis=(1, 2, 3), keepdims=True)
    span = tf.reduce_max(maps, axis=(1, 2, 3), keepdims=True) - low
    return tf.math.divide_no_nan(maps - low, span)


class InputGradient:
    """`|dF/dx|` of the class logit per frame and pixel, built once.

    Args:
        model: Any Keras video classifier (only called); a softmax head is
            explained on its logits (`logits.logits_model`).

    Example:
        saliency = InputGradient(model)
        maps = saliency(videos)  # (batch, frames, height, width) in [0, 1].
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self._logits = logits_lib.logits_model(model)
        self._maps = tf.function(self._maps_in_graph, reduce_retracing=True)

    def __call__(self, videos, class_ids=None) -> tf.Tensor:
        """Maps of `videos` for `class_ids` (None: the predicted classes).

        Args:
            videos: `(batch, T, H, W, 3)` float in [0, 255].
            class_ids: `(batch,)` ints, or None.

        Returns:
            `(batch, T, H, W)` float32 in [0, 1].
        """
        videos, class_ids = logits_lib.check_inputs(
            self.model, videos, class_ids
        )
        return self._maps(videos, class_ids)

    def _maps_in_graph(self, videos, class_ids):
        with tf.GradientTape() as tape:
            tape.watch(videos)
            logits = self._logits(videos, training=False)
            logits = tf.cast(logits, tf.float32)
            _, scores = grad_cam.explained_scores(logits, class_ids)
        return input_gradient_maps(tape.gradient(scores, videos))
