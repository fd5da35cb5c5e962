"""Video classifiers by name: `build("i3d", num_classes=174)`, or any Keras
video classifier by import path: `build("my_pkg.models:build", ...)`."""

import importlib

import keras

from tfvidinterp import errors
from tfvidinterp.models import clstm
from tfvidinterp.models import i3d

MODELS = {"i3d": i3d.build, "clstm": clstm.build}


def build(name: str, **kwargs) -> keras.Model:
    """Builds the model called `name` with the keyword arguments of its build.

    Args:
        name: A key of `MODELS`, or `"module:function"`: a function looked
            up with importlib (`module` must be importable, e.g. on
            `PYTHONPATH`) that takes the same keywords (`num_classes`,
            `num_frames`, `image_size` and the config's `model` section)
            and returns a `keras.Model` of videos
            `(batch, frames, height, width, 3)` to logits
            `(batch, num_classes)`.
        **kwargs: Passed to the model's `build` (a misspelled keyword raises
            `TypeError`).

    Returns:
        The `keras.Model`.

    Raises:
        errors.InputError: If `name` is not a known model, its module or
            function cannot be found, or it returns no `keras.Model`.
    """
    if ":" in name:
        model = import_builder(name)(**kwargs)
        if not isinstance(model, keras.Model):
            raise errors.InputError(
                f"model {name!r} returned a {type(model).__name__}, not a "
                "keras.Model"
            )
        return model
    if name not in MODELS:
        raise errors.InputError(
            f"Unknown model {name!r}; known: {sorted(MODELS)}, or "
            "'module:function' of your own"
        )
    return MODELS[name](**kwargs)


def import_builder(name: str):
    """The function of an import-path model name `"module:function"`
    (`function` may be dotted: `"pkg.mod:Factory.build"`).

    Raises:
        errors.InputError: The module cannot be imported, has no such
            attribute, or the attribute is not callable.
    """
    module_name, _, attribute = name.partition(":")
    try:
        value = importlib.import_module(module_name)
    except ImportError as error:
        raise errors.InputError(
            f"cannot import module {module_name!r} of model {name!r}: {error}"
        ) from None
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise errors.InputError(
                f"module {module_name!r} has no {attribute!r} (model {name!r})"
            )
        value = getattr(value, part)
    if not callable(value):
        raise errors.InputError(
            f"{attribute!r} of module {module_name!r} is a "
            f"{type(value).__name__}, not a function (model {name!r})"
        )
    return value
