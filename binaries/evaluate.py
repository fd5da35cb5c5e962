"""Evaluates a trained run: top-1/top-5, per-class F1, confusion matrix,
forward and on time-reversed clips.

Example (the run's config.json is used; --config overrides it, and must
describe the same model):
    python -m binaries.evaluate --workdir=runs/i3d_synthetic --split=test

Writes <workdir>/eval/<split>.json and TensorBoard summaries in
<workdir>/tb/evaluate.
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
_SPLIT = flags.DEFINE_string(
    "split", None, "Split to evaluate (default: the config's eval.split)."
)
flags.mark_flags_as_required(["workdir"])


def main(argv):
    del argv
    result = evaluate.run(_CONFIG.value, _WORKDIR.value, _SPLIT.value)
    summary = {
        d: {k: result[d][k] for k in ("top1", "top5", "macro_f1")}
        for d in ("forward", "reversed")
    }
    print(json.dumps({"split": result["split"], **summary}, indent=2))


if __name__ == "__main__":
    cli.run(main)
