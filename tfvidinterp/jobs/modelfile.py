"""The model that evaluate, explain, export and faithfulness read: a
training run's latest checkpoint, or a Keras model file with its class
names beside it.

A model file `<name>.keras` (Keras 3 format, `model.save`) must be a video
classifier with one input `(batch, frames, height, width, 3)` of float RGB
in [0, 255] and logits `(batch, classes)` out. Its class names, in label
order, are one a line in `<name>.classes.txt` next to it. Its input shape
decides the clips: static frames, height and width are the model's, and the
config's `input.num_frames` and `input.image_size` fill in the ones it
leaves open (None).
"""

import os
import typing

import keras
import ml_collections

from tfvidinterp import errors
from tfvidinterp import precision as precision_lib
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train

SUFFIX = ".keras"
CLASSES_SUFFIX = ".classes.txt"


class Loaded(typing.NamedTuple):
    """A job's model, as `load` returns it."""

    model: keras.Model
    classes: list  # The class names, in label order.
    step: int | None  # The checkpoint's training step; None for a file.
    config: ml_collections.ConfigDict  # The job's resolved config.
    # The Keras dtype policy a run's model was built under; None for a
    # file, whose layers compute in the dtypes it was saved with.
    precision: str | None
    source: str  # The run's directory or the model file.
    dataset: str | None  # The `source` of the training data, if known.


def load(
    config,
    workdir: str | None = None,
    *,
    model: str | None = None,
    data_dir=None,
    precision: str = precision_lib.RUN,
) -> Loaded:
    """The model of a training run (`train.restore`) or of a model file.

    Args:
        config: For a run: None for its recorded config, or one of the same
            model. For a model file: the evaluation and explanation options
            (e.g. `configs/keras_model.py`); required.
        workdir: The training run's directory; or None with `model`.
        model: A `.keras` file; or None with `workdir`.
        data_dir: A prepared dataset overriding `config.input.data_dir`.
        precision: A run's: `precision_lib.RUN` (as it trained) or a
            policy to build it under (`train.restore`). A model file
            computes as it was saved: only `RUN`.

    Raises:
        errors.InputError: Neither or both of `workdir` and `model`, a
            `precision` other than `RUN` for a model file, or as
            `train.restore` and `load_file`.
    """
    if (workdir is None) == (model is None):
        raise errors.InputError(
            "give --workdir (a training run) or --model (a Keras model file)"
            + (", not both" if workdir else "")
        )
    if workdir is not None:
        # A run without class names (an older version's) reads them from
        # the dataset: the one of `data_dir`.
        config = with_data_dir(train.run_config(config, workdir), data_dir)
        restored = train.restore(config, workdir, precision)
        record = rundir.read_run(workdir) or {}
        return Loaded(*restored, source=workdir, dataset=record.get("dataset"))
    if precision != precision_lib.RUN:
        raise errors.InputError(
            f"--precision={precision} applies to a training run (--workdir); "
            "a model file computes in the dtypes it was saved with"
        )
    network, classes = load_file(model)
    config = with_data_dir(file_config(config, network, model), data_dir)
    return Loaded(network, classes, None, config, None, model, None)


def with_data_dir(config, data_dir: str | None):
    """`config`, or a copy of it reading the dataset `data_dir` if given."""
    if not data_dir:
        return config
    values = config.to_dict()
    values["input"]["data_dir"] = data_dir
    return ml_collections.ConfigDict(values)


def read_dataset(config, source: str, classes=None) -> dict:
    """The `dataset_info.json` of `config.input.data_dir`, after checking
    that its classes are `classes` (if given), those of `source`'s model.

    Raises:
        errors.InputError: No dataset there, or other classes.
    """
    data_dir = config.input.data_dir
    info = prepare.read_info(data_dir)
    if classes is not None:
        rundir.compare_classes(
            source, classes, info["classes"], f"dataset {data_dir}"
        )
    return info


def classes_path(model: str) -> str:
    """The class names file of the model file `model`."""
    stem = model[: -len(SUFFIX)] if model.endswith(SUFFIX) else model
    return stem + CLASSES_SUFFIX


def read_classes(path: str) -> list[str]:
    """Class names, one a line (blank lines and surrounding spaces dropped).

    Raises:
        errors.InputError: A missing or unreadable file, no names, or a
            name twice.
    """
    try:
        with open(path) as f:
            names = [line.strip() for line in f if line.strip()]
    except OSError as error:
        raise errors.InputError(
            f"cannot read the class names {path}: {error.strerror}; write "
            "them there, one a line in label order"
        ) from None
    repeated = sorted({n for n in names if names.count(n) > 1})
    if not names or repeated:
        raise errors.InputError(
            f"{path} names "
            + (f"{', '.join(repeated)} twice" if repeated else "no class")
            + "; give each class once, one a line in label order"
        )
    return names


def load_file(path: str) -> tuple[keras.Model, list[str]]:
    """A Keras video classifier and its class names (`classes_path`).

    Raises:
        errors.InputError: No such file, not a `.keras` file, a missing or
            bad class names file, a file Keras cannot load, a model without
            a symbolic input (subclassed) or whose input is not one batch of
            videos (rank 5, 3 channels), or whose output is not one logit
            per class name.
    """
    if not path.endswith(SUFFIX) or not os.path.isfile(path):
        raise errors.InputError(
            f"no Keras model file {path}; give a {SUFFIX} file (model.save)"
        )
    classes = read_classes(classes_path(path))
    try:
        model = keras.saving.load_model(path, compile=False)
    # Whatever fails inside Keras (a corrupt zip, an unknown layer class)
    # is a file it cannot load: one line, not a traceback.
    except Exception as error:  # noqa: BLE001
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise errors.InputError(f"cannot load {path}: {reason}") from None
    if not getattr(model, "inputs", None):
        raise errors.InputError(
            f"{path} holds a model without a symbolic input (a subclassed "
            "model); save a functional or Sequential one, its input a "
            "keras.Input((frames, height, width, 3))"
        )
    shapes = [tuple(x.shape) for x in model.inputs]
    if len(shapes) != 1 or len(shapes[0]) != 5 or shapes[0][-1] != 3:
        raise errors.InputError(
            f"{path} is not a video classifier: its input "
            f"{shapes[0] if len(shapes) == 1 else shapes} is not (batch, "
            "frames, height, width, 3)"
        )
    outputs = tuple(model.outputs[0].shape)
    if len(model.outputs) != 1 or outputs[-1] != len(classes):
        raise errors.InputError(
            f"{path} outputs {outputs}, not one logit for each of the "
            f"{len(classes)} classes in {classes_path(path)}"
        )
    return model, classes


def file_config(config, model: keras.Model, path: str):
    """`config` with the model file's name and clip shape (see the module
    docstring), as a new `ConfigDict`.

    Raises:
        errors.InputError: `config` is None.
    """
    if config is None:
        raise errors.InputError(
            "--model needs a --config of the options to use (input, eval, "
            "interp), e.g. --config=configs/keras_model.py"
        )
    values = config.to_dict()
    size = values["input"]["image_size"]
    sides = (size, size) if isinstance(size, int) else tuple(size)
    frames, height, width = model.inputs[0].shape[1:4]
    values["input"].update(
        num_frames=frames or values["input"]["num_frames"],
        image_size=(height or sides[0], width or sides[1]),
    )
    values["model_name"] = os.path.basename(path)
    return ml_collections.ConfigDict(values)
