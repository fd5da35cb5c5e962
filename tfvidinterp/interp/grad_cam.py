"""Grad-CAM for video: where in each frame a class's evidence lies.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017, https://arxiv.org/abs/1610.02391;
per-time-step channel weights as in Mänttäri, Broomé et al., ACCV 2020, Eq. 2,
https://arxiv.org/abs/2002.00367.
"""

import keras
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.interp import layer_names
from tfvidinterp.interp import logits as logits_lib
from tfvidinterp.interp import tracing

WEIGHTINGS = ("time", "clip")
SCORES = ("logit", "probability")
UPSAMPLINGS = ("linear", "nearest")
NORMALIZATIONS = ("clip", "frame")
# Jobs check their clips against a model with it before explaining them.
check_inputs = logits_lib.check_inputs


class GradCAM:
    """Video Grad-CAM: one heatmap per input frame, built once, called often.

    With features `A` of the layer, `(batch, T', h, w, channels)`, and the
    gradient of the class score `F` with respect to them, the channel weights
    are `w_kt = mean_ij dF/dA_ijt^k` (`weighting="time"`, the paper's Eq. 2)
    or one weight per channel over the clip (`"clip"`). The map
    `ReLU(sum_k w_k A_k)` is up-sampled to the input, bilinear in space and,
    in time, `"linear"` or `"nearest"` (see `time_matrix`), then min-max
    normalised per clip or per frame; an all-zero map stays zero.

    Which models: functional and Sequential ones, also with a functional
    backbone nested as a layer (name its layers by path,
    `layer="backbone/Mixed_3c"`); a softmax head is explained on its logits
    (`logits.logits_model`). A subclassed model has no layer outputs to
    read: build the explainer with `GradCAM.from_functions`.

    Args:
        model: Functional or Sequential video classifier.
        layer: Name or nested path of a layer with a time axis (5-D output);
            None picks `layer_names.default_layer(model)`.
        weighting: `"time"` or `"clip"`.
        score: `"logit"` (default) or `"probability"` (softmax), the `F` above.
        upsample: `"linear"` or `"nearest"`: the time up-sampling.
        normalize: `"clip"` or `"frame"`: the extent of the min-max scaling.

    Raises:
        errors.InputError: An unknown option, an unknown layer, a layer
            whose output has no time axis, a subclassed model, or a softmax
            whose logits cannot be recovered.

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
        options = _options(weighting, score, upsample, normalize)
        self.layer = layer or layer_names.default_layer(model)
        grad_model = logits_lib.feature_model(model, [self.layer])
        self._setup(model, grad_model, **options)

    @classmethod
    def from_functions(cls, features, head, **options) -> "GradCAM":
        """Grad-CAM of `head(features(videos))`, for any model.

        The way to explain a subclassed model, or any model Grad-CAM cannot
        read a layer of: split it where the maps should come from.

        Args:
            features: Videos `(batch, T, H, W, 3)` -> activations
                `(batch, T', h, w, channels)`, in inference mode.
            head: Activations -> `(batch, num_classes)` logits; outputs
                that are probabilities are refused (`logits.num_classes`
                calls the model on one clip per call).
            **options: `weighting`, `score`, `upsample`, `normalize`.

        Example:
            cam = GradCAM.from_functions(net.backbone, net.classifier)
        """
        cam = cls.__new__(cls)
        cam.layer = getattr(features, "name", None)

        def grad_model(videos, training=False):
            activations = features(videos)
            return [activations], head(activations)

        def model(videos, training=False):
            return head(features(videos))

        cam._setup(model, grad_model, **_options(**options))
        return cam

    def _setup(self, model, grad_model, weighting, score, upsample, normalize):
        self.model = model
        self.weighting = weighting
        self.score = score
        self.upsample = upsample
        self.normalize = normalize
        # videos -> ([features], logits): a functional model or a function.
        self._grad_model = grad_model
        self._explain = tracing.BatchFunction(self.explain_in_graph)

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
        videos, class_ids = logits_lib.check_inputs(
            self.model, videos, class_ids
        )
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
            (features,), logits = self._grad_model(videos, training=False)
            logits = tf.cast(logits, tf.float32)
            class_ids, scores = explained_scores(logits, class_ids, self.score)
        # Clips do not interact (inference mode), so the gradient of the sum
        # holds each clip's own gradient. The gradient is of the layer's own
        # output: a float32 cast of a mixed-precision one is off the path.
        grads = tf.cast(tape.gradient(scores, features), tf.float32)
        features = tf.cast(features, tf.float32)
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


def _options(
    weighting="time", score="logit", upsample="linear", normalize="clip"
) -> dict:
    """Grad-CAM's options as keyword arguments, each checked."""
    options = dict(
        weighting=weighting, score=score, upsample=upsample, normalize=normalize
    )
    known = dict(
        weighting=WEIGHTINGS,
        score=SCORES,
        upsample=UPSAMPLINGS,
        normalize=NORMALIZATIONS,
    )
    for name, value in options.items():
        if value not in known[name]:
            raise errors.InputError(
                f"unknown Grad-CAM {name} {value!r}; known: {known[name]}"
            )
    return options


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
