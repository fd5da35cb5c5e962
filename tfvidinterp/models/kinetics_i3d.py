"""Loads the Kinetics-pretrained I3D of deepmind/kinetics-i3d into our I3D.

The release (https://github.com/deepmind/kinetics-i3d, `data/checkpoints/`)
holds TF1 checkpoints written with Sonnet: `rgb_scratch` and `rgb_imagenet`
(400 Kinetics classes, variables under `RGB/inception_i3d/`) and
`rgb_scratch_kin600` (600 classes, no scope, batch-norm statistics shaped
`(1, 1, 1, 1, C)`, and the optimiser's `/Momentum` slots, which are not
read). The `flow_*` checkpoints take 2-channel optical flow, not RGB, and
are refused.

Where each variable goes, for a unit such as `Mixed_4b/Branch_1/Conv3d_0b_3x3`
(our layers `Mixed_4b_Branch_1_Conv3d_0b_3x3_conv` and `..._bn`):

- `<unit>/conv_3d/w` is the `_conv` kernel (the same `(T, H, W, in, out)`);
- `<unit>/batch_norm/{beta,moving_mean,moving_variance}` are the `_bn`
  offset and statistics. Sonnet's BatchNorm there has no scale, so our
  `gamma` is set to 1; both use epsilon 1e-3.
- `Logits/Conv3d_0c_1x1/conv_3d/{w,b}` is our `Logits` dense layer (a
  1x1x1 convolution of pooled features is a dense layer). With another
  class count it is not read and keeps its initial values (fine-tuning).

The release names one unit out of pattern: Mixed_5b's second Branch_2 conv
is `Conv3d_0a_3x3` (elsewhere `Conv3d_0b_3x3`). The weights do not depend on
the strides: they load into both of `i3d.build`'s temporal stride settings
(`original_strides=True` is the release's). Its input is RGB in [-1, 1], as
our model rescales [0, 255] to. Its head averages 2x7x7 windows of
`Mixed_5c` (224-pixel frames) and then the windows' logits over time, so
the end steps count half; ours averages all steps and positions alike, so
the logits differ slightly even where the weights are the same.
"""

import re

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors

# Present in every release checkpoint, after its scope (if any).
_FIRST_KERNEL = "Conv3d_1a_7x7/conv_3d/w"
_HEAD = "Logits/Conv3d_0c_1x1/conv_3d/"
# The release's one unit named out of its pattern.
_RENAMED = {
    "Mixed_5b/Branch_2/Conv3d_0b_3x3": "Mixed_5b/Branch_2/Conv3d_0a_3x3"
}
# Batch-norm variables, named alike in the release and in Keras.
_BATCH_NORM = ("beta", "moving_mean", "moving_variance")


def is_checkpoint(path: str) -> bool:
    """Whether the TF checkpoint `path` (a prefix) is one of the release's."""
    return _scope(tf.train.load_checkpoint(path)) is not None


def load(model: keras.Model, path: str) -> tuple[list, list]:
    """Sets the I3D `model`'s weights from the release checkpoint `path`.

    Args:
        model: Built by `tfvidinterp.models.i3d.build` with `width=1.0` (the
            release's channel counts), any strides, frame size or classes.
        path: The checkpoint prefix, e.g. `.../rgb_imagenet/model.ckpt`.

    Returns:
        `(loaded, initialised)`: the paths (`layer/variable`) of the model's
        weights set from the checkpoint (the batch norms' `gamma`, set to
        1, among them) and of those left as they were (`Logits/kernel` and
        `Logits/bias` when the class count differs, else none).

    Raises:
        errors.InputError: The checkpoint is not the release's RGB I3D, or
            `model` is not a full-width I3D.
    """
    reader = tf.train.load_checkpoint(path)
    scope = _scope(reader)
    if scope is None:
        raise errors.InputError(f"{path} is not a kinetics-i3d checkpoint")
    if scope.startswith("Flow/"):
        raise errors.InputError(
            f"{path} is a kinetics-i3d Flow checkpoint (optical-flow input); "
            "give an RGB one (rgb_imagenet, rgb_scratch, rgb_scratch_kin600)"
        )
    head = _head(model, path)
    values, initialised = [], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv3D):
            unit = _unit(layer.name, "_conv")
            values.append((layer.kernel, f"{scope}{unit}/conv_3d/w"))
        elif isinstance(layer, keras.layers.BatchNormalization):
            unit = _unit(layer.name, "_bn")
            values.append((layer.gamma, np.ones(layer.gamma.shape, "float32")))
            values += [
                (getattr(layer, name), f"{scope}{unit}/batch_norm/{name}")
                for name in _BATCH_NORM
            ]
    if reader.get_variable_to_shape_map()[f"{scope}{_HEAD}b"] == [head.units]:
        values.append((head.kernel, f"{scope}{_HEAD}w"))
        values.append((head.bias, f"{scope}{_HEAD}b"))
    else:
        initialised = [head.kernel.path, head.bias.path]
    _assign(values, reader, path)
    return [variable.path for variable, _ in values], initialised


def _scope(reader):
    """The release variables' scope ("" or e.g. "RGB/inception_i3d/"), or
    None for a checkpoint that is not the release's."""
    for name in reader.get_variable_to_shape_map():
        if name.endswith(_FIRST_KERNEL):
            return name[: -len(_FIRST_KERNEL)]
    return None


def _unit(layer_name, suffix):
    """The release's scope of our layer `layer_name` (ending in `suffix`)."""
    unit = re.sub(r"^(Mixed_\w\w)_(Branch_\d)_", r"\1/\2/", layer_name)
    unit = unit[: -len(suffix)]
    return _RENAMED.get(unit, unit)


def _head(model, path):
    """`model`'s `Logits` layer, once `model` is known to be an I3D."""
    try:
        head = model.get_layer("Logits")
        model.get_layer("Conv3d_1a_7x7_conv")
    except ValueError:
        raise errors.InputError(
            f"kinetics-i3d checkpoint {path} loads into an I3D only "
            f"(model_name 'i3d'), not model {model.name!r}"
        ) from None
    return head


def _assign(values, reader, path):
    """Assigns each `(variable, array or checkpoint tensor name)` of
    `values`, after checking every shape (a mismatch assigns nothing)."""
    arrays = []
    for variable, value in values:
        if isinstance(value, str):
            if not reader.has_tensor(value):
                raise errors.InputError(
                    f"kinetics-i3d checkpoint {path} lacks {value}"
                )
            array = reader.get_tensor(value)
            # The 600-class release keeps statistics as (1, 1, 1, 1, C).
            if "/batch_norm/" in value:
                array = array.reshape(-1)
            # Its 1x1x1 logits kernel is our dense kernel.
            elif value.endswith(f"{_HEAD}w"):
                array = array.reshape(array.shape[-2:])
            value = array
        if tuple(value.shape) != tuple(variable.shape):
            raise errors.InputError(
                f"kinetics-i3d checkpoint {path}: {variable.path} has shape "
                f"{tuple(variable.shape)}, the checkpoint's "
                f"{tuple(value.shape)}; the release is a full-width I3D "
                "(model.width=1.0)"
            )
        arrays.append((variable, value))
    for variable, value in arrays:
        variable.assign(value)
