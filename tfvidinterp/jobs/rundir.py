"""The fixed layout of a run's working directory."""

import os

CONFIG = "config.json"  # The resolved config of the run.
CHECKPOINTS = "ckpt"  # The chief's tf.train checkpoints.
TENSORBOARD = "tb"  # Event files: tb/train, tb/eval, tb/evaluate.
MODEL = "model.keras"  # The final trained model.
EVAL = "eval"  # evaluate's JSON results, one file per split.
EXPORT = "export"  # SavedModels.
EXPLAIN = "explain"  # explain's per-clip JSON lines and Grad-CAM maps.


def path(workdir: str, *names: str) -> str:
    """Joins `names` under `workdir`."""
    return os.path.join(workdir, *names)


def checkpoint_step(path: str) -> int:
    """The step of a checkpoint path `<dir>/ckpt-<step>`."""
    return int(path.rsplit("-", 1)[1])
