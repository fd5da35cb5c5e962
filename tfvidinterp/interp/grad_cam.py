"""Grad-CAM for video: where in each frame a class's evidence lies.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017, https://arxiv.org/abs/1610.02391;
per-time-step channel weights as in Mänttäri, Broomé et al., ACCV 2020, Eq. 2,
https://arxiv.org/abs/2002.00367.
"""

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors

DEFAULT_LAYER = "Mixed_5c"
WEIGHTINGS = ("time", "clip")
SCORES = ("logit", "probability")
UPSAMPLINGS = ("linear", "nearest")
NORMALIZATIONS = ("clip", "frame")


def default_layer(model: keras.Model) -> str:
    """The Grad-CAM layer used when none is named.

    Args:
        model: A functional video classifier.

    Returns:
        `"Mixed_5c"` if the model has it (I3D), else the name of its last
        `ConvLSTM2D` layer (C-LSTM).

    Raises:
        errors.InputError: The model has neither.
    """
    names = [layer.name for layer in model.layers]
    if DEFAULT_LAYER in names:
        return DEFAULT_LAYER
    recurrent = [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.ConvLSTM2D)
    ]
    if recurrent:
        return recurrent[-1]
    raise errors.InputError(
        f"model {model.name!r} has no {DEFAULT_LAYER} and no ConvLSTM2D "
        f"layer; name a Grad-CAM layer, e.g. one of {_video_layers(model)}"
    )


class GradCAM:
    """Video Grad-CAM: one heatmap per input frame, built once, called often.

    With features `A` of the layer, `(batch, T', h, w, channels)`, and the
    gradient of the class score `F` with respect to them, the channel weights
    are `w_kt = mean_ij dF/dA_ijt^k` (`weighting="time"`, the paper's Eq. 2)
    or one weight per channel over the clip (`"clip"`). The map
    `ReLU(sum_k w_k A_k)` is up-sampled to the input, bilinear in space and,
    in time, `"linear"` or `"nearest"` (see `time_matrix`), then min-max
    normalised per clip or per frame; an all-zero map stays zero.

    Args:
        model: Functional video classifier whose output is the logits.
        layer: Name of a layer with a time axis (5-D output); None picks
            `default_layer(model)`.
        weighting: `"time"` or `"clip"`.
        score: `"logit"` (default) or `"probability"` (softmax), the `F` above.
        upsample: `"linear"` or `"nearest"`: the time up-sampling.
        normalize: `"clip"` or `"frame"`: the extent of the min-max scaling.

    Raises:
        errors.InputError: An unknown option, an unknown layer, or a layer
            whose output has no time axis.

    Example:
        cam = GradCAM(model)  # Mixed_5c for I3D.
        heatmaps = cam(videos)  # (batch, frames, height, width) in [0, 1].
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str | None = None,
        weighting: str = "time",
        score: str = "logit",
        upsample: str = "linear",
        normalize: str = "clip",
    ):
        for name, value, known in (
            ("weighting", weighting, WEIGHTINGS),
            ("score", score, SCORES),
            ("upsample", upsample, UPSAMPLINGS),
            ("normalize", normalize, NORMALIZATIONS),
        ):
            if value not in known:
                raise errors.InputError(
                    f"unknown Grad-CAM {name} {value!r}; known: {known}"
                )
        self.model = model
        self.layer = layer or default_layer(model)
        self.weighting = weighting
        self.score = score
        self.upsample = upsample
        self.normalize = normalize
        features = layer_output(model, self.layer)
        self._grad_model = keras.Model(model.inputs, [features, model.output])
        self._explain = tf.function(
            self.explain_in_graph, reduce_retracing=True
        )

    def __call__(self, videos, class_ids=None) -> tf.Tensor:
        """Returns heatmaps `(batch, frames, height, width)` float32 in [0, 1].

        Args:
            videos: `(batch, frames, height, width, 3)` float in [0, 255].
            class_ids: `(batch,)` int classes to explain; None: the argmax.
        """
        return self.explain(videos, class_ids)["heatmaps"]

    def explain(self, videos, class_ids=None) -> dict:
        """Heatmaps together with the classes and scores they explain.

        Args:
            videos: `(batch, frames, height, width, 3)` float in [0, 255].
            class_ids: `(batch,)` int classes to explain; None: the argmax.

        Returns:
            A dict of tensors: `heatmaps` `(batch, frames, height, width)`
            float32 in [0, 1]; `class_ids` `(batch,)` int32; `scores`
            `(batch,)` the explained score (logit or probability); `logits`
            `(batch, num_classes)`.

        Raises:
            errors.InputError: Videos of the wrong shape or a class id out of
                range.
        """
        videos, class_ids = check_inputs(self.model, videos, class_ids)
        return self._explain(videos, class_ids)

    @staticmethod
    def channel_weights(grads, features=None, weighting="time"):
        """Channel weights from the gradients, the paper's Eq. 2.

        Args:
            grads: `(batch, T', h, w, channels)` gradients of the score.
            features: The activations `A`, same shape; unused here, for
                overrides that need them.
            weighting: `"time"`: one weight per channel and time step (mean
                over h, w); `"clip"`: one per channel (mean over T', h, w).

        Returns:
            `(batch, T', 1, 1, channels)` or `(batch, 1, 1, 1, channels)`.
        """
        # Override point: Grad-CAM++ changes only this.
        axes = (2, 3) if weighting == "time" else (1, 2, 3)
        return tf.reduce_mean(grads, axis=axes, keepdims=True)

    def explain_in_graph(self, videos, class_ids):
        """`explain` without its checks, for use inside a `tf.function`.

        Args:
            videos: `(batch, frames, height, width, 3)` float32 tensor.
            class_ids: `(batch,)` int32 tensor; -1 explains the prediction.

        Returns:
            The dict of `explain`.
        """
        with tf.GradientTape() as tape:
            features, logits = self._grad_model(videos, training=False)
            features = tf.cast(features, tf.float32)
            logits = tf.cast(logits, tf.float32)
            class_ids, scores = explained_scores(logits, class_ids, self.score)
        # Clips do not interact (inference mode), so the gradient of the sum
        # holds each clip's own gradient.
        grads = tape.gradient(scores, features)
        return dict(
            heatmaps=self.maps(features, grads, tf.shape(videos)),
            class_ids=class_ids,
            scores=scores,
            logits=logits,
        )

    def maps(self, features, grads, video_shape):
        """Eq. 2's maps from a layer's activations and their gradients.

        Args:
            features: `(batch, T', h, w, channels)` float32 activations.
            grads: Their gradients of the explained scores, same shape.
            video_shape: The input's shape `(batch, T, H, W, 3)`.

        Returns:
            `(batch, T, H, W)` float32 heatmaps in [0, 1].
        """
        weights = self.channel_weights(grads, features, self.weighting)
        cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
        heatmaps = _resize(
            cams, video_shape[1], video_shape[2], video_shape[3], self.upsample
        )
        return _min_max(heatmaps, self.normalize)


def explained_scores(logits, class_ids, score="logit"):
    """The classes explained and their scores, inside a gradient tape.

    Args:
        logits: `(batch, num_classes)` float32.
        class_ids: `(batch,)` int32; -1 explains the prediction.
        score: `"logit"` or `"probability"` (softmax).

    Returns:
        `(class_ids, scores)`, each `(batch,)`.
    """
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    class_ids = tf.where(class_ids < 0, predicted, class_ids)
    outputs = tf.nn.softmax(logits) if score == "probability" else logits
    return class_ids, tf.gather(outputs, class_ids, batch_dims=1)


def time_matrix(frames, steps, method="linear") -> tf.Tensor:
    """Interpolation matrix that up-samples `steps` time steps to `frames`.

    Time steps and frames are taken as equal-width cells covering the clip,
    sampled at their centres (as `tf.image.resize` with its default
    half-pixel centres, i.e. align_corners=False): output frame t reads the
    position `s = (t + 0.5) * steps / frames - 0.5`, clamped to
    `[0, steps - 1]`. `"linear"` interpolates between the two nearest steps,
    `"nearest"` takes step `floor((t + 0.5) * steps / frames)`, which is the
    reference's block repeat when `frames` is a multiple of `steps`. For
    `steps=2, frames=4`, linear gives rows `[1, 0], [.75, .25], [.25, .75],
    [0, 1]` and nearest `[1, 0], [1, 0], [0, 1], [0, 1]`.

    Args:
        frames: Number of output frames.
        steps: Number of input time steps.
        method: `"linear"` or `"nearest"`.

    Returns:
        `(frames, steps)` float32; each row sums to 1.
    """
    scale = tf.cast(steps, tf.float32) / tf.cast(frames, tf.float32)
    centres = (tf.range(frames, dtype=tf.float32) + 0.5) * scale
    if method == "nearest":
        nearest = tf.minimum(tf.cast(tf.floor(centres), tf.int32), steps - 1)
        return tf.one_hot(nearest, steps)
    position = tf.clip_by_value(
        centres - 0.5, 0.0, tf.cast(steps - 1, tf.float32)
    )
    low = tf.floor(position)
    frac = (position - low)[:, None]
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, steps - 1)
    return (1.0 - frac) * tf.one_hot(low, steps) + frac * tf.one_hot(
        high, steps
    )


def check_inputs(model: keras.Model, videos, class_ids=None):
    """Checks videos and class ids against the model before any tracing.

    Args:
        model: The video classifier.
        videos: `(batch, frames, height, width, 3)` float.
        class_ids: `(batch,)` ints in `[0, num_classes)`, or None.

    Returns:
        `(videos, class_ids)`: float32 videos and int32 `(batch,)` class ids,
        -1 for every clip when `class_ids` is None (explain the prediction).

    Raises:
        errors.InputError: A rank or static dimension that does not fit the
            model's input, or class ids of the wrong length or range.
    """
    videos = tf.convert_to_tensor(videos, tf.float32)
    expected = tuple(model.input.shape[1:])
    got = tuple(videos.shape[1:])
    if len(got) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, got)
    ):
        raise errors.InputError(
            f"videos of shape {tuple(videos.shape)} do not fit the model "
            f"input (batch,) + {expected}"
        )
    batch = videos.shape[0]
    if class_ids is None:
        return videos, tf.fill([batch], -1)
    class_ids = np.asarray(class_ids, np.int32).reshape([-1])
    num_classes = model.output.shape[-1]
    if class_ids.shape[0] != batch or np.any(
        (class_ids < 0) | (class_ids >= num_classes)
    ):
        raise errors.InputError(
            f"class_ids {class_ids.tolist()} do not give one class in "
            f"[0, {num_classes}) per clip for {batch} clips"
        )
    return videos, tf.constant(class_ids)


def _resize(cams, frames, height, width, method):
    """(batch, T', h, w) -> (batch, frames, height, width); time first, as
    the interpolation is separable and the maps are smallest there."""
    matrix = time_matrix(frames, tf.shape(cams)[1], method)
    cams = tf.einsum("ts,bshw->bthw", matrix, cams)
    shape = tf.shape(cams)
    flat = tf.reshape(cams, [-1, shape[2], shape[3], 1])
    flat = tf.image.resize(flat, [height, width], method="bilinear")
    return tf.reshape(flat, [shape[0], frames, height, width])


def _min_max(heatmaps, mode):
    axes = (1, 2, 3) if mode == "clip" else (2, 3)
    low = tf.reduce_min(heatmaps, axis=axes, keepdims=True)
    high = tf.reduce_max(heatmaps, axis=axes, keepdims=True)
    # A constant map (all zero after the ReLU) carries no location: 0, no NaN.
    return tf.math.divide_no_nan(heatmaps - low, high - low)


def layer_output(model, name):
    """The symbolic output of `model`'s layer `name`, which must have a time
    axis; an unknown or 4-D layer is an `errors.InputError`."""
    try:
        layer = model.get_layer(name)
    except ValueError:
        raise errors.InputError(
            f"model {model.name!r} has no layer {name!r}; layers with a time "
            f"axis include {_video_layers(model)}"
        ) from None
    if len(layer.output.shape) != 5:
        raise errors.InputError(
            f"layer {name!r} has output shape {tuple(layer.output.shape)}, no "
            "time axis (Grad-CAM needs (batch, time, height, width, "
            f"channels)); try one of {_video_layers(model)}"
        )
    return layer.output


def _video_layers(model, count=5):
    """The last `count` layer names with a 5-D output (a time axis)."""
    names = [
        layer.name
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
        and len(layer.output.shape) == 5
    ]
    return names[-count:]
