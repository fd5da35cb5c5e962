"""A training run's model: built from its config, restored from its run."""

import typing

import keras
import ml_collections
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp import models
from tfvidinterp import precision as precision_lib
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.models import weights

RESTORE_ADVICE = "give the config it was trained with"


def build_model(config, num_classes):
    """Builds the config's model for `num_classes` classes: `model_name` is
    one of `tfvidinterp.models.MODELS` or an import path
    `"module:function"` (`tfvidinterp.models.build`)."""
    return models.build(
        config.model_name,
        num_classes=num_classes,
        num_frames=config.input.num_frames,
        image_size=config.input.image_size,
        **config.model,
    )


class Restored(typing.NamedTuple):
    """A run's trained model, as `restore` returns it."""

    model: keras.Model
    classes: list  # The class names, in label order.
    step: int  # The checkpoint's training step.
    config: ml_collections.ConfigDict  # The config it was built from.
    precision: str  # The Keras dtype policy it was built under.


def run_config(config, workdir: str):
    """The config of the run in `workdir`, for a job that reads the run.

    Args:
        config: A config overriding the run's (e.g. its `interp` or
            `eval` options), or None for the run's recorded `config.json`.
        workdir: The run's directory.

    Returns:
        `config` if given, else the recorded one as a `ConfigDict`. A run
        without `config.json` (of an older version) is not checked: the
        config given is used as it is, with a warning.

    Raises:
        errors.InputError: `config` describes another model than the run's
            (its `model_name` or `model` differ), or is None for a
            `workdir` that records no config.
    """
    recorded = rundir.read_config(workdir)
    if recorded is None:
        if config is None:
            raise errors.InputError(
                f"{workdir} has no {rundir.CONFIG}: not a training run; "
                "train it first, or give its --config"
            )
        logging.warning(
            "%s has no %s: the config given is not checked against the run",
            workdir,
            rundir.CONFIG,
        )
        return config
    if config is None:
        return ml_collections.ConfigDict(recorded)
    rundir.check_model_config(workdir, recorded, config.to_dict())
    return config


def trained_precision(config, workdir: str) -> str:
    """The run's `train.mixed_precision`: that of its `config.json` (how it
    trained, whatever `config` a later job gives), else `config`'s; `""`
    for a config from before the field."""
    recorded = rundir.read_config(workdir) or config.to_dict()
    return recorded.get("train", {}).get("mixed_precision", "")


def restore(config, workdir: str, precision=precision_lib.RUN) -> Restored:
    """Rebuilds the run's model and restores its latest checkpoint, whole.

    The class names come from the run's `run.json`, so the dataset is not
    read; only a run of an older version, without them, reads its
    dataset's `dataset_info.json` instead. The model computes in the
    precision the run trained in (`precision_lib.of_run`); its variables
    are float32 in every precision.

    Args:
        config: As for `run_config`: None for the run's recorded config.
        workdir: The run's directory.
        precision: `precision_lib.RUN`, or a policy of
            `precision_lib.POLICIES` to build the model under instead.

    Raises:
        errors.InputError: No checkpoint, a config of another model, a
            checkpoint that does not hold every variable of the model, or
            an unknown `precision`.
    """
    config = run_config(config, workdir)
    classes = rundir.read_classes(workdir)
    if classes is None:
        logging.warning(
            "%s records no class names (no %s): taking those of dataset %s",
            workdir,
            rundir.RUN,
            config.input.data_dir,
        )
        classes = prepare.read_info(config.input.data_dir)["classes"]
    directory = rundir.path(workdir, rundir.CHECKPOINTS)
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        raise errors.InputError(
            f"No checkpoint in {directory}; train the model first."
        )
    policy = precision_lib.of_run(trained_precision(config, workdir), precision)
    with precision_lib.scope(policy):
        model = build_model(config, len(classes))
    weights.restore(model, latest, RESTORE_ADVICE)
    logging.info("Restored %s, computing in %s.", latest, policy)
    step = rundir.checkpoint_step(latest)
    return Restored(model, classes, step, config, policy)


def load_model(config, workdir: str):
    """`restore`'s `(model, classes)`."""
    restored = restore(config, workdir)
    return restored.model, restored.classes
