r"""Measures how faithful a model's explanations are, on any explained clips.

    python -m binaries.faithfulness --workdir=runs/i3d_synthetic
    python -m binaries.faithfulness --model=my_model.keras \
        --config=configs/keras_model.py --results_dir=runs/my_model/explain

Prints the measures, baselines and targets (or "needs ground truth");
writes <results_dir>/faithfulness.json. --config overrides config.json.
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import faithfulness

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Overrides the run's config.json.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
_MODEL = flags.DEFINE_string("model", None, "Or a .keras model file.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Dataset of the clips.")
_RESULTS_DIR = flags.DEFINE_string("results_dir", None, "Default: explain's.")
_RANDOM_ORDERS = flags.DEFINE_integer(
    "random_orders", 5, "Random frame orders per clip (deletion baseline)."
)
_TOLERANCE = flags.DEFINE_integer(
    "tolerance", None, "Pointing-game tolerance in px (default: 5% of a side)."
)
_SPATIAL_CLIPS = flags.DEFINE_integer(
    "spatial_clips", 48, "Clips of the split for the pointing game and energy."
)
_LAYERS = flags.DEFINE_list(
    "layers", None, "Grad-CAM layers (default: last of each resolution)."
)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the random orders and model.")
_PRECISION = cli.define_precision()


def main(argv):
    del argv
    result = faithfulness.run(
        _CONFIG.value,
        _WORKDIR.value,
        _RESULTS_DIR.value,
        model=_MODEL.value,
        precision=_PRECISION.value,
        data_dir=_DATA_DIR.value,
        seed=_SEED.value,
        random_orders=_RANDOM_ORDERS.value,
        tolerance=_TOLERANCE.value,
        spatial_clips=_SPATIAL_CLIPS.value,
        layers=_LAYERS.value,
    )
    print(faithfulness.summary_text(result))
    print(f"Measures: {result['results_dir']}/faithfulness.json")


if __name__ == "__main__":
    cli.run(main)
