"""The fixed layout of a run's working directory, and what a run records
about itself: its config, written once, and the classes it learned.

Every job that reads a run checks what it is given against these records,
so that results of two models never mix unnoticed.
"""

import os

from absl import logging

from tfvidinterp import errors
from tfvidinterp import files

CONFIG = "config.json"  # The resolved config of the run, written once.
# {"classes", "dataset", "model"}: what the run was trained on, and its
# model (`model_record`).
RUN = "run.json"
CHECKPOINTS = "ckpt"  # The chief's tf.train checkpoints.
TENSORBOARD = "tb"  # Event files: tb/train, tb/eval, tb/evaluate.
MODEL = "model.keras"  # The final trained model.
EVAL = "eval"  # evaluate's JSON results, one file per split.
EXPORT = "export"  # SavedModels.
EXPLAIN = "explain"  # explain's per-clip JSON lines and Grad-CAM maps.

# The config sections that say which model a run holds: a config given to a
# later job must agree with the run on them.
MODEL_SECTIONS = ("model_name", "model")
# What a resumed training run must keep: its model and its data.
TRAINING_SECTIONS = ("model_name", "model", "input")


def path(workdir: str, *names: str) -> str:
    """Joins `names` under `workdir`."""
    return os.path.join(workdir, *names)


def checkpoint_step(path: str) -> int:
    """The step of a checkpoint path `<dir>/ckpt-<step>`."""
    return int(path.rsplit("-", 1)[1])


def read_config(workdir: str) -> dict | None:
    """The run's recorded config; None if `workdir` has no `config.json`.

    Raises:
        errors.InputError: The file is not a JSON object.
    """
    return files.read_json_object(path(workdir, CONFIG))


def read_run(workdir: str) -> dict | None:
    """The run's `run.json`; None if it has none (an older version's run).

    Raises:
        errors.InputError: The file is not a JSON object.
    """
    return files.read_json_object(path(workdir, RUN))


def read_classes(workdir: str) -> list | None:
    """The class names the run was trained on; None if not recorded (a run
    of a version before `run.json`).

    Raises:
        errors.InputError: `run.json` is not a JSON object.
    """
    record = read_run(workdir)
    return None if record is None else record.get("classes")


def model_record(config: dict, num_classes: int) -> dict:
    """`run.json`'s `model`: what the run's model is, enough to rebuild it
    with `tfvidinterp.models.build` (`name` may be an import path).

    Args:
        config: The run's resolved config, as a dict.
        num_classes: Its number of classes.

    Returns:
        `{"name": model_name, "kwargs": the config's model section,
        "input_shape": [frames, height, width, 3] of the training clips,
        "num_classes"}`.
    """
    size = config["input"]["image_size"]
    height, width = (size, size) if isinstance(size, int) else size
    return {
        "name": config["model_name"],
        "kwargs": dict(config["model"]),
        "input_shape": [config["input"]["num_frames"], height, width, 3],
        "num_classes": num_classes,
    }


def record(workdir: str, config: dict, info: dict, *, write: bool = True):
    """Records what a training run is, or checks a resumed run against it.

    The first call writes `config.json` and `run.json`; later calls keep
    them and refuse a config whose model or data differ (a value of the
    `TRAINING_SECTIONS`), since the checkpoint's weights belong to the
    recorded ones. A key that only one of the two configs has (a field added
    or removed by another version of tfvidinterp) is only logged.

    Args:
        workdir: The run's directory.
        config: The resolved config, as a dict.
        info: The dataset's `dataset_info.json`.
        write: Whether this worker writes the records (the chief).

    Raises:
        errors.InputError: A recorded config or class list that differs.
    """
    recorded = read_config(workdir)
    if recorded is not None:
        _refuse_changes(
            workdir,
            recorded,
            config,
            TRAINING_SECTIONS,
            f"resume it with the run's values ({CONFIG}) or choose another "
            "workdir",
        )
    learned = read_classes(workdir)
    if learned is not None:
        compare_classes(workdir, learned, info["classes"], "the dataset")
    if not write:
        return
    if recorded is None:
        files.write_json(path(workdir, CONFIG), config)
    if learned is None:
        run = {
            "classes": info["classes"],
            "dataset": info.get("source"),
            "model": model_record(config, len(info["classes"])),
        }
        files.write_json(path(workdir, RUN), run)


def check_model_config(workdir: str, recorded: dict, config: dict):
    """Refuses a config whose model differs from the run's recorded one.

    Raises:
        errors.InputError: Naming every key of `MODEL_SECTIONS` whose value
            differs.
    """
    _refuse_changes(
        workdir,
        recorded,
        config,
        MODEL_SECTIONS,
        f"leave out --config to use the run's own ({CONFIG}), or give one "
        "of the same model",
    )


def compare_classes(owner: str, recorded, classes, where: str):
    """Refuses `classes` (of `where`) other than `recorded`, the classes
    the model of `owner` (a run or a model file) was trained on.

    Raises:
        errors.InputError: Other class names, or another number of them.
    """
    if list(classes) != list(recorded):
        changed = [
            f"{i}: {a!r} -> {b!r}"
            for i, (a, b) in enumerate(zip(recorded, classes))
            if a != b
        ][:3]
        raise errors.InputError(
            f"{owner} was trained on {len(recorded)} classes, {where} "
            f"has {len(classes)}"
            + (f" ({', '.join(changed)})" if changed else "")
            + "; use the dataset the model was trained on"
        )


def differences(recorded: dict, config: dict, sections) -> tuple:
    """`(changed, one_sided)`: the dotted keys under `sections` whose values
    differ, as `"key (run: a, given: b)"`, and those only one has."""
    old, new = (
        {
            key: value
            for key, value in _flatten(files.as_json(c)).items()
            if any(key == s or key.startswith(s + ".") for s in sections)
        }
        for c in (recorded, config)
    )
    changed = [
        f"{key} (run: {old[key]!r}, given: {new[key]!r})"
        for key in sorted(old.keys() & new.keys())
        if old[key] != new[key]
    ]
    return changed, sorted(old.keys() ^ new.keys())


def _refuse_changes(workdir, recorded, config, sections, advice):
    changed, one_sided = differences(recorded, config, sections)
    if changed:
        raise errors.InputError(
            f"{workdir} holds a run of another config: "
            f"{', '.join(changed)}; {advice}"
        )
    if one_sided:
        logging.warning(
            "Only one of %s and the config given has %s; not compared.",
            path(workdir, CONFIG),
            ", ".join(one_sided),
        )


def _flatten(value, prefix=""):
    """A nested dict as `{"a.b": leaf}`."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat
