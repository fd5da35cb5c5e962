"""Video classifiers by name: `build("i3d", num_classes=174)`."""

import keras

from tfvidinterp import errors
from tfvidinterp.models import clstm
from tfvidinterp.models import i3d

MODELS = {"i3d": i3d.build, "clstm": clstm.build}


def build(name: str, **kwargs) -> keras.Model:
    """Builds the model called `name` with the keyword arguments of its build.

    Args:
        name: A key of `MODELS`.
        **kwargs: Passed to the model's `build` (a misspelled keyword raises
            `TypeError`).

    Returns:
        The `keras.Model`.

    Raises:
        errors.InputError: If `name` is not a known model.
    """
    if name not in MODELS:
        raise errors.InputError(
            f"Unknown model {name!r}; known: {sorted(MODELS)}"
        )
    return MODELS[name](**kwargs)
