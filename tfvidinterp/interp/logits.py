"""The logits of a video classifier, whatever its head.

Every explainer scores classes on logits: Grad-CAM's class score, the input
gradient, and the softmax the mask and deletion curves apply themselves. A
model whose head ends in a softmax would be explained on probabilities
(Grad-CAM) or pass through a second softmax (masks), silently wrong, so
`logits_model` recovers its pre-softmax output, and `num_classes` refuses a
model whose outputs look like probabilities where they cannot be recovered.
"""

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.interp import layer_names

# Rows of non-negative outputs summing to 1 within this are probabilities.
PROBABILITY_TOLERANCE = 1e-4


def logits_model(model):
    """`model`, or a model of its pre-softmax logits sharing its weights.

    A functional (or Sequential) model whose output comes from a softmax is
    rewired to the softmax's input: a `Softmax` layer or `keras.ops.softmax`
    op, an `Activation("softmax")`, a `Dense` with a softmax activation (its
    linear part, `x @ kernel + bias`, from the same variables), or a nested
    functional model ending in one of these. The rewired model keeps
    `model`'s name and its layers (the same objects, so training `model`
    changes it too). Any other model is returned as it is; a subclassed
    model's outputs are checked by `num_classes` instead.

    Args:
        model: A video classifier: functional, Sequential or subclassed.

    Returns:
        A model mapping the same videos to `(batch, num_classes)` logits.

    Raises:
        errors.InputError: The output is the softmax activation of a layer
            other than `Dense` or `Activation`, whose linear part is not
            known here.
    """
    if not layer_names.is_functional(model) or _head(model) is None:
        return model
    return _rewired(model)[0]


def feature_model(model, names) -> keras.Model:
    """A model from videos to `[[features per name], logits]`, one pass.

    Args:
        model: A functional or Sequential video classifier.
        names: Layer names or nested paths (`"backbone/Mixed_3c"`), each
            with a time axis.

    Returns:
        A functional model sharing `model`'s layers; its logits are those
        of `logits_model(model)`.

    Raises:
        errors.InputError: An unknown layer, one with no time axis, or a
            softmax whose logits cannot be recovered (`logits_model`).
    """
    layers = [layer_names.find(model, name) for name in names]
    nested = any(layer_names.is_functional(layer) for layer in model.layers)
    if not nested and _head(model) is None:
        # A flat logits model (ours) needs no copy of its graph, unless a
        # layer was first called in another graph (shared layers): its
        # `output` is that graph's, not connected to `model.inputs`.
        features = [layer.output for layer in layers]
        try:
            return keras.Model(model.inputs, [features, model.outputs[0]])
        except ValueError:
            pass
    clone, taps = _rewired(model)
    features = [taps[name] for name in names]
    return keras.Model(clone.inputs, [features, clone.outputs[0]])


def num_classes(model, videos) -> int:
    """The number of classes `model` scores, checking its outputs are logits.

    A functional model's is its static output width. Any other model is
    called once on the first clip of `videos`, and refused if its outputs
    there are non-negative and sum to 1: probabilities, whose logits cannot
    be recovered from a subclassed model's `call`.

    Args:
        model: A model from `logits_model`, or any callable on videos.
        videos: `(batch, T, H, W, 3)` float32 tensor.

    Raises:
        errors.InputError: The outputs look like probabilities.
    """
    if layer_names.is_functional(model):
        return model.outputs[0].shape[-1]
    outputs = np.asarray(model(videos[:1], training=False), np.float64)
    if np.all(outputs >= 0) and np.allclose(
        outputs.sum(-1), 1.0, atol=PROBABILITY_TOLERANCE
    ):
        name = getattr(model, "name", type(model).__name__)
        raise errors.InputError(
            f"model {name!r} returns probabilities (non-negative rows that "
            "sum to 1), not logits; the explainers need the logits: pass a "
            "model whose call returns them (without the final softmax)"
        )
    return outputs.shape[-1]


def check_inputs(model: keras.Model, videos, class_ids=None):
    """Checks videos and class ids against the model before any tracing.

    A model that is not functional has no static input shape (only the
    rank is checked) and is called once on the first clip, to count its
    classes and refuse probabilities (`num_classes`).

    Args:
        model: The video classifier (or any callable on videos).
        videos: `(batch, frames, height, width, 3)` float.
        class_ids: `(batch,)` ints in `[0, num_classes)`, or None.

    Returns:
        `(videos, class_ids)`: float32 videos and int32 `(batch,)` class ids,
        -1 for every clip when `class_ids` is None (explain the prediction).

    Raises:
        errors.InputError: A rank or static dimension that does not fit the
            model's input, class ids of the wrong length or range, or a
            model that returns probabilities.
    """
    videos = tf.convert_to_tensor(videos, tf.float32)
    expected = (
        tuple(model.inputs[0].shape[1:])
        if layer_names.is_functional(model)
        else (None,) * 4
    )
    got = tuple(videos.shape[1:])
    if len(got) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, got)
    ):
        raise errors.InputError(
            f"videos of shape {tuple(videos.shape)} do not fit the model "
            f"input (batch,) + {expected}"
        )
    batch = videos.shape[0]
    classes = num_classes(model, videos)
    if class_ids is None:
        return videos, tf.fill([batch], -1)
    class_ids = np.asarray(class_ids, np.int32).reshape([-1])
    if class_ids.shape[0] != batch or np.any(
        (class_ids < 0) | (class_ids >= classes)
    ):
        raise errors.InputError(
            f"class_ids {class_ids.tolist()} do not give one class in "
            f"[0, {classes}) per clip for {batch} clips"
        )
    return videos, tf.constant(class_ids)


def _rewired(model, logits=True):
    """`model`'s graph called again on new inputs, sharing its layers, with
    (if `logits`) its softmax head replaced by the logits, and the symbolic
    output of every layer of the new graph by name or nested path."""
    head = _head(model) if logits else None
    taps = {}

    def call(operation, *args, **kwargs):
        if layer_names.is_functional(operation):
            # Calling the nested model's own re-wired graph as one layer
            # brings its inner outputs into the outer graph.
            inner, inner_taps = _rewired(operation, operation is head)
            tapped = keras.Model(
                inner.inputs,
                [inner.outputs, list(inner_taps.values())],
                name=operation.name,
            )
            outputs, values = tapped(*args, **kwargs)
            taps.update(
                (f"{operation.name}{layer_names.SEPARATOR}{path}", value)
                for path, value in zip(inner_taps, values)
            )
            outputs = outputs[0] if len(outputs) == 1 else outputs
        elif operation is head:
            outputs = _logits_of(model, head)(*args, **kwargs)
        else:
            outputs = operation(*args, **kwargs)
        taps[operation.name] = outputs
        return outputs

    if isinstance(model, keras.Sequential):
        # clone_model takes no call_function for a Sequential; the same
        # graph as a functional model does.
        model = keras.Model(model.inputs[0], model.outputs[0], name=model.name)
    clone = keras.models.clone_model(
        model, clone_function=lambda operation: operation, call_function=call
    )
    return clone, taps


def _head(model):
    """The layer or op producing `model`'s output if that is a softmax
    (also inside a nested model), else None."""
    # Keras records the producer on every symbolic tensor; a nested model's
    # call in the outer graph has no public equivalent.
    head = model.outputs[0]._keras_history[0]
    if layer_names.is_functional(head):
        return head if _head(head) is not None else None
    if type(head).__name__ == "Softmax" or (
        getattr(head, "activation", None) is keras.activations.softmax
    ):
        return head
    return None


def _logits_of(model, head):
    """A function of a softmax `head`'s inputs that gives its logits."""
    if type(head).__name__ == "Softmax" or isinstance(
        head, keras.layers.Activation
    ):
        return lambda x, *args, **kwargs: x
    if isinstance(head, keras.layers.Dense):
        return keras.layers.Lambda(
            lambda x: _linear(head, x), name=f"{head.name}_logits"
        )
    raise errors.InputError(
        f"model {model.name!r} ends in the softmax activation of "
        f"{type(head).__name__} {head.name!r}, whose logits are not "
        "recovered here; pass a model that returns them (the same layer "
        "with activation=None)"
    )


def _linear(dense, x):
    x = tf.matmul(x, tf.cast(dense.kernel, x.dtype))
    return x if dense.bias is None else x + tf.cast(dense.bias, x.dtype)
