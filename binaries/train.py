r"""Trains a video classifier described by an ml_collections config.

Example:
    python -m binaries.train --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic
    python -m binaries.train --config=configs/i3d_synthetic.py:smoke \
        --workdir=runs/smoke --config.input.data_dir=data/synthetic

Re-running the same command resumes from the last checkpoint. Several
machines: set TF_CONFIG on each and pass
--config.strategy=multi_worker_mirrored.
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import train

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    None,
    "Experiment config file (configs/*.py[:smoke]).",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Output dir: checkpoints, TensorBoard, model, config."
)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    train.run(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
    cli.run(main)
