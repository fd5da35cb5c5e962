r"""Trains a config under several seeds and reports how reliably it learns.

Example:
    python -m binaries.prepare_data --output_dir=data/synthetic \
        --synthetic_clips=1600,200,200
    python -m binaries.sweep --config=configs/i3d_synthetic.py \
        --config.input.data_dir=data/synthetic --workdir=runs/sweep_i3d \
        --num_seeds=20 --test_split=test

Prints k of n seeds that reached the config's train.target_accuracy, the
steps each took and each seed's final validation accuracy, and with
--test_split each stopped model's top-1 on that split; writes them to
<workdir>/sweep.json. Re-running the command resumes.
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import sweep

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (configs/*.py).", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The sweep's directory.")
_NUM_SEEDS = flags.DEFINE_integer(
    "num_seeds", 20, "Seeds to train.", lower_bound=1
)
_FIRST_SEED = flags.DEFINE_integer("first_seed", 0, "The first seed.")
_TEST_SPLIT = flags.DEFINE_string(
    "test_split",
    None,
    "A split to evaluate each seed's last checkpoint on (e.g. test).",
)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    seeds = range(_FIRST_SEED.value, _FIRST_SEED.value + _NUM_SEEDS.value)
    summary = sweep.run(
        _CONFIG.value, _WORKDIR.value, seeds, test_split=_TEST_SPLIT.value
    )
    print(sweep.summary_text(summary))


if __name__ == "__main__":
    cli.run(main)
