r"""Evaluates a trained run or a Keras model file: top-1/top-5, per-class
F1, confusion matrix, forward and on time-reversed clips.

Examples (a run's config.json is used; --config overrides it, and must
describe the same model; a model file needs a --config of options):
    python -m binaries.evaluate --workdir=runs/i3d_synthetic --split=test
    python -m binaries.evaluate --model=my_model.keras \
        --config=configs/keras_model.py --data_dir=data/mine \
        --split=test --output_dir=runs/my_model

Writes <workdir or output_dir>/eval/<split>.json and TensorBoard summaries
in <workdir or output_dir>/tb/evaluate.
"""

import json

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import evaluate

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Overrides the run's config.json.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
_MODEL = flags.DEFINE_string(
    "model", None, "A .keras file, its classes in <name>.classes.txt."
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Dataset to evaluate on.")
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", None, "Results dir (default: --workdir)."
)
_SPLIT = flags.DEFINE_string(
    "split", None, "Split to evaluate (default: the config's eval.split)."
)
_PRECISION = cli.define_precision()


def main(argv):
    del argv
    result = evaluate.run(
        _CONFIG.value,
        _WORKDIR.value,
        _SPLIT.value,
        model=_MODEL.value,
        precision=_PRECISION.value,
        data_dir=_DATA_DIR.value,
        output_dir=_OUTPUT_DIR.value,
    )
    summary = {
        d: {k: result[d][k] for k in ("top1", "top5", "macro_f1")}
        for d in ("forward", "reversed")
    }
    print(json.dumps({"split": result["split"], **summary}, indent=2))


if __name__ == "__main__":
    cli.run(main)
