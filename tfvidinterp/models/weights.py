"""Weights into a model: a run's checkpoint whole, or warm-started from one.

`warm_start` is what `train.init_weights` does: it sets a new model's
weights from another run of the same model, a Keras weights file or the
Kinetics-pretrained I3D release, all but the classification head when the
class count differs (fine-tuning).
"""

import contextlib
import gc
import os
import re
import typing
import warnings

import keras
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.models import kinetics_i3d

KERAS_SUFFIX = ".weights.h5"  # What `keras.Model.save_weights` writes.


class Loaded(typing.NamedTuple):
    """What `warm_start` read and set."""

    source: str  # The checkpoint prefix or the file read.
    kind: str  # "checkpoint", "keras" or "kinetics_i3d".
    loaded: list  # Paths (`layer/variable`) of the weights set from it.
    initialised: list  # Those left as initialised: the head, or none.


def restore(model: keras.Model, path: str, advice: str):
    """Restores every variable of `model` from the TF checkpoint `path`.

    A checkpoint of another architecture would otherwise restore only the
    variables that happen to match, silently.

    Args:
        model: The model, with the checkpoint's architecture.
        path: A checkpoint prefix written by `tf.train.Checkpoint(model=...)`.
        advice: The end of the error message: what to do instead.

    Raises:
        errors.InputError: The checkpoint lacks some of the model's
            variables or holds them in other shapes.
    """
    status = None
    try:
        status = tf.train.Checkpoint(model=model).restore(path)
        status.assert_existing_objects_matched()
        return
    except (AssertionError, ValueError) as error:
        mismatch = _mismatch(error, model)
    finally:
        if status is not None:
            # The optimizer's values are not restored here, by design.
            status.expect_partial()
    # Raised here, not in `except`, so that the error does not keep the
    # half-restored checkpoint alive (TF warns when it goes).
    raise errors.InputError(
        f"checkpoint {path} is not of the config's model: {mismatch}; {advice}"
    )


def _mismatch(error, model) -> str:
    """What `restore`'s error says, in one line."""
    text = str(error)
    found = re.search(r"Found (\d+) Python objects", text)
    if not found:
        return text.strip().splitlines()[0] if text.strip() else "mismatch"
    names = re.findall(r"path=([^\s,]+)", text)[:3]
    return (
        f"{found[1]} of the model's {len(model.variables)} variables are not "
        f"in it ({', '.join(names)}{', ...' if int(found[1]) > 3 else ''})"
    )


def warm_start(model: keras.Model, path: str) -> Loaded:
    """Sets `model`'s weights from `path`, all but the head if need be.

    Args:
        model: A newly built model.
        path: One of
            - a TF checkpoint of the same model (`model_name` and `model.*`)
              as training writes it: a prefix `<workdir>/ckpt/ckpt-<step>`,
              or a directory of checkpoints (`<workdir>/ckpt`: its latest);
            - a Keras weights file `*.weights.h5` of the same model
              (`keras.Model.save_weights`);
            - a checkpoint of the Kinetics-pretrained I3D release (a prefix
              such as `.../rgb_imagenet/model.ckpt` or its directory), told
              by its variable names; see `kinetics_i3d`.

    Returns:
        A `Loaded`. The head is the model's last layer (`Logits` of I3D
        and C-LSTM): when its weights have other shapes in `path` (another
        class count), every other weight is loaded and the head keeps its
        initial values.

    Raises:
        errors.InputError: `path` is none of these, or holds another model
            (a weight other than the head's is missing or of another
            shape).
    """
    kind, source = _source(path)
    if kind == "kinetics_i3d":
        return Loaded(source, kind, *kinetics_i3d.load(model, source))
    load = _load_keras if kind == "keras" else _load_checkpoint
    try:
        with _quiet():
            load(model, source)
        return Loaded(source, kind, [w.path for w in model.weights], [])
    except errors.InputError as error:
        whole = error
    head = model.layers[-1]
    headless = keras.Model(model.inputs, head.input)
    try:
        # The weights of the layers before the head are saved alike with and
        # without it (in checkpoint and file, by their place in the model).
        with _quiet():
            load(headless, source)
    except errors.InputError:
        raise whole from None
    loaded = [w.path for w in headless.weights]
    return Loaded(source, kind, loaded, [w.path for w in head.weights])


@contextlib.contextmanager
def _quiet():
    """Silences TF's and Keras's warnings about weights left unread or
    unset: a head of another shape is expected here, and reported."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        # A checkpoint restored in part warns when it is collected.
        gc.collect()
        logger.setLevel(level)


def _load_checkpoint(model, prefix):
    restore(
        model,
        prefix,
        "init_weights must be of the same model_name and model.* (only the "
        "class count may differ)",
    )


def _load_keras(model, path):
    try:
        model.load_weights(path)
    except ValueError as error:
        # Keras's message is a paragraph; its first sentences say enough.
        text = " ".join(str(error).split())
        raise errors.InputError(
            f"weights file {path} is not of the config's model: "
            f"{text[:300]}{'...' if len(text) > 300 else ''}"
        ) from None


def _source(path):
    """`(kind, checkpoint prefix or file)` of a `warm_start` path."""
    if path.endswith(".h5"):
        if not os.path.isfile(path):
            raise errors.InputError(f"init_weights {path}: no such file")
        return "keras", path
    if tf.io.gfile.isdir(path):
        prefix = _latest(path)
    else:
        prefix = path.removesuffix(".index")
        if not tf.io.gfile.exists(f"{prefix}.index"):
            raise errors.InputError(
                f"init_weights {path}: no such checkpoint, directory or "
                f"{KERAS_SUFFIX} file"
            )
    if kinetics_i3d.is_checkpoint(prefix):
        return "kinetics_i3d", prefix
    return "checkpoint", prefix


def _latest(directory):
    """The only checkpoint in `directory`, or its latest."""
    # Not asked of the release's `checkpoint` files: they name paths on its
    # authors' machines (TF logs an error for them).
    indexes = tf.io.gfile.glob(os.path.join(directory, "*.index"))
    if len(indexes) == 1:
        return indexes[0].removesuffix(".index")
    latest = tf.train.latest_checkpoint(directory)
    if not indexes or latest is None:
        raise errors.InputError(
            f"init_weights {directory}: {len(indexes)} checkpoints and no "
            "usable `checkpoint` file; give a checkpoint prefix"
        )
    return latest
