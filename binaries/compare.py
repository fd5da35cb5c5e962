r"""Compares explained models: Tables 1-4, Fig. 4, GIFs, HTML report.

    python -m binaries.compare \
        --results=runs/i3d_synthetic/explain/test \
        --results=runs/clstm_synthetic/explain/test \
        --eval=runs/i3d_synthetic/eval/test.json \
        --eval=runs/clstm_synthetic/eval/test.json \
        --output_dir=runs/compare_synthetic

Writes <output_dir>/report.html, tables/, figures/, gifs/, stats.json, tb/."""

import os

from absl import flags
from ml_collections import config_flags

import configs
from tfvidinterp import cli
from tfvidinterp.jobs import compare

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    os.path.join(os.path.dirname(configs.__file__), "compare.py"),
    "Comparison config (found from any directory): blob detector, drop "
    "filter, histograms, GIFs.",
    lock_config=True,
)
_RESULTS = flags.DEFINE_multi_string(
    "results",
    None,
    "explain results directories, one per model (comma-separated or "
    "repeated); the first is orange in the histograms, the second blue.",
)
_EVAL = flags.DEFINE_multi_string(
    "eval",
    None,
    "Optional evaluate JSONs, one per --results directory in its order "
    "(comma-separated or repeated), for Tables 1-2.",
)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "The report's dir.")
flags.mark_flags_as_required(["results", "output_dir"])


def _split(values):
    return [v for value in values or () for v in value.split(",") if v]


def main(argv):
    del argv
    compare.run(
        _split(_RESULTS.value),
        _OUTPUT_DIR.value,
        _CONFIG.value,
        _split(_EVAL.value) or None,
    )
    print(f"Report: {_OUTPUT_DIR.value}/report.html")


if __name__ == "__main__":
    cli.run(main)
