"""The fixed layout of a run's working directory."""

import json
import math
import os
import tempfile

import numpy as np

CONFIG = "config.json"  # The resolved config of the run.
CHECKPOINTS = "ckpt"  # The chief's tf.train checkpoints.
TENSORBOARD = "tb"  # Event files: tb/train, tb/eval, tb/explain.
MODEL = "model.keras"  # The final trained model.
EVAL = "eval"  # evaluate's JSON results, one file per split.
EXPORT = "export"  # SavedModels.
EXPLAIN = "explain"  # explain's per-clip JSON lines and Grad-CAM maps.


def path(workdir: str, *names: str) -> str:
    """Joins `names` under `workdir`."""
    return os.path.join(workdir, *names)


def write_atomic(filename: str, data, mode="w"):
    """Writes `data` to `filename` so a reader never sees a partial file."""
    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, filename)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(filename: str, value):
    """Writes `value` as indented JSON, atomically."""
    write_atomic(filename, json.dumps(value, indent=2, sort_keys=True) + "\n")


def jsonable(value, digits: int | None = None):
    """`value` as plain JSON types: NumPy numbers become Python ones, NaN and
    infinities become None, and floats are rounded to `digits` if given."""
    if isinstance(value, dict):
        return {k: jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, digits) for v in value]
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        return float(value) if digits is None else round(float(value), digits)
    if isinstance(value, np.integer):
        return int(value)
    return value
