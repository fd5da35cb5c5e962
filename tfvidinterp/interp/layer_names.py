"""Layer names for Grad-CAM: flat, nested, and the automatic choice.

A layer of a functional model nested in another (a backbone called as a
layer) is named by its path, `"backbone/Mixed_3c"`, as `keras.Model.summary`
nests it; deeper nesting adds more parts.
"""

import keras

from tfvidinterp import errors

DEFAULT_LAYER = "Mixed_5c"
SEPARATOR = "/"


def is_functional(model) -> bool:
    """Whether `model` is a Keras graph (functional or built Sequential),
    whose layers' symbolic outputs can be read, rather than a subclassed
    model or a plain callable, which can only be called."""
    return (
        isinstance(model, keras.Model)
        and getattr(model, "inputs", None) is not None
        and getattr(model, "outputs", None) is not None
    )


def layer_paths(model: keras.Model) -> list:
    """`(path, layer)` for every layer of a functional model but its inputs.

    A nested functional model's layers come as `"outer/inner"` paths before
    the nested model itself, the order in which their outputs are computed.

    Raises:
        errors.InputError: `model` is not functional: a subclassed model's
            layers have no symbolic outputs (use `GradCAM.from_functions`).
    """
    if not is_functional(model):
        name = getattr(model, "name", type(model).__name__)
        raise errors.InputError(
            f"model {name!r} is not functional (subclassed?): its layers "
            "cannot be read; for Grad-CAM use "
            "GradCAM.from_functions(features, head)"
        )
    paths = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if is_functional(layer):
            paths += [
                (f"{layer.name}{SEPARATOR}{path}", inner)
                for path, inner in layer_paths(layer)
            ]
        paths.append((layer.name, layer))
    return paths


def output_shape(layer) -> tuple | None:
    """A layer's output shape, None if it has several outputs."""
    output = layer.output
    return tuple(output.shape) if hasattr(output, "shape") else None


def has_time_axis(layer) -> bool:
    """Whether a layer's output is `(batch, T, H, W, channels)`."""
    shape = output_shape(layer)
    return shape is not None and len(shape) == 5


def default_layer(model: keras.Model) -> str:
    """The Grad-CAM layer used when none is named.

    In order: `Mixed_5c` (I3D, also nested: `"backbone/Mixed_5c"`); the last
    `ConvLSTM2D` with a time axis (C-LSTM); else the last layer, nested ones
    included, whose output has a time axis and spatial extent,
    `(batch, T, H, W, channels)` with H and W not 1 (or unknown). So a
    `TimeDistributed` 2-D convolution or pooling counts (per-frame features,
    one time step per frame), and so do both halves of a (2+1)-D block;
    their flattened or pooled features, and recurrent layers over them,
    have no spatial extent and do not. A nested model is named by its last
    such inner layer, not by itself.

    Args:
        model: A functional or Sequential video classifier.

    Returns:
        A name or nested path for `GradCAM(model, layer=...)`.

    Raises:
        errors.InputError: `model` is not functional (use
            `GradCAM.from_functions`), or no layer fits.
    """
    paths = [
        (path, layer)
        for path, layer in layer_paths(model)
        if not is_functional(layer)
    ]
    for path, _ in paths:
        if path.split(SEPARATOR)[-1] == DEFAULT_LAYER:
            return path
    recurrent = [
        path
        for path, layer in paths
        if isinstance(layer, keras.layers.ConvLSTM2D) and has_time_axis(layer)
    ]
    spatial = [
        path
        for path, layer in paths
        if has_time_axis(layer) and 1 not in output_shape(layer)[2:4]
    ]
    if recurrent or spatial:
        return (recurrent or spatial)[-1]
    raise errors.InputError(
        f"model {model.name!r} has no layer with a time axis and spatial "
        "extent ((batch, time, height, width, channels), height and width "
        "> 1) for Grad-CAM"
    )


def find(model: keras.Model, name: str):
    """The layer at `name` (a name or nested path), which must have a time
    axis; an unknown or time-less layer is an `errors.InputError`."""
    paths = dict(layer_paths(model))
    if name not in paths:
        raise errors.InputError(
            f"model {model.name!r} has no layer {name!r}; layers with a time "
            f"axis include {video_layers(model)}"
        )
    layer = paths[name]
    if not has_time_axis(layer):
        raise errors.InputError(
            f"layer {name!r} has output shape {output_shape(layer)}, no "
            "time axis (Grad-CAM needs (batch, time, height, width, "
            f"channels)); try one of {video_layers(model)}"
        )
    return layer


def video_layers(model: keras.Model, count=5) -> list:
    """The last `count` layer names or paths with a time axis."""
    names = [path for path, layer in layer_paths(model) if has_time_axis(layer)]
    return names[-count:]
