r"""Measures a model's explanations against the synthetic ground truth.

Example:
    python -m binaries.faithfulness --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic

Reads the explain results in <workdir>/explain/<split> (or --results_dir),
prints a Markdown table of the measures, their baselines and targets, and
writes <results_dir>/faithfulness.json, which the compare report shows.
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp import faithfulness
from tfvidinterp import workdir as wd
from tfvidinterp.analysis import faithfulness as measures
from tfvidinterp.analysis import report

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "The config the run was trained with.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
_RESULTS_DIR = flags.DEFINE_string(
    "results_dir", None,
    "explain results dir (default: <workdir>/explain/<split>, the split "
    "explain uses: interp.split, else eval.split).")
_RANDOM_ORDERS = flags.DEFINE_integer(
    "random_orders", 5, "Random frame orders per clip (deletion baseline).")
_TOLERANCE = flags.DEFINE_integer(
    "tolerance", None,
    "Pointing-game tolerance in pixels (default: 5% of the frame side).")
_SPATIAL_CLIPS = flags.DEFINE_integer(
    "spatial_clips", 48,
    "Clips of the split for the pointing game and energy, per layer.")
_LAYERS = flags.DEFINE_list(
    "layers", None,
    "Grad-CAM layers to compare (default: the last layer at each spatial "
    "resolution); the explained layer is always measured.")
_SEED = flags.DEFINE_integer(
    "seed", 0, "Seed of the random orders and (+1) the random-weight model.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    config = _CONFIG.value
    results_dir = _RESULTS_DIR.value or wd.path(
        _WORKDIR.value, wd.EXPLAIN, config.interp.split or config.eval.split)
    result = faithfulness.run(
        config, _WORKDIR.value, results_dir, seed=_SEED.value,
        random_orders=_RANDOM_ORDERS.value, tolerance=_TOLERANCE.value,
        spatial_clips=_SPATIAL_CLIPS.value, layers=_LAYERS.value)
    print(faithfulness.markdown_table([result]))
    print(report.to_markdown(report.layer_table([result])))
    for missed in measures.missed_targets(result):
        print(f"MISSED {missed}")
    print(f"Measures: {results_dir}/faithfulness.json")


if __name__ == "__main__":
    cli.run(main)
