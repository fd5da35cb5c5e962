r"""Measures the speed of explanations, training and input, as ratios.

    python -m binaries.benchmark --config=configs/benchmark.py \
        --output=runs/benchmark.json
    python -m binaries.benchmark --config=configs/benchmark.py:full \
        --output=runs/benchmark_full.json  # the paper's sizes, for a GPU

Prints a table (name, measured, baseline, ratio, target, met?) with notes
and absolute times, and writes it with the device and the config as JSON.
"""

import os

from absl import flags
from ml_collections import config_flags

import configs
from benchmarks import suite
from benchmarks import table
from tfvidinterp import cli
from tfvidinterp import files

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    # Found from any working directory, not only the repository root.
    os.path.join(os.path.dirname(configs.__file__), "benchmark.py"),
    "Benchmark config: sizes, batch sizes, repeats; :full or :smoke.",
    lock_config=True,
)
_OUTPUT = flags.DEFINE_string(
    "output",
    None,
    "JSON file for the results (written atomically); none: print only.",
)


def main(argv):
    del argv  # cli.run rejects extra arguments.
    result = suite.run(_CONFIG.value)
    print(table.format_table(result["rows"]))
    print("Context:")
    print("\n".join(f"  {line}" for line in result["context"]))
    print(
        f"Device: {result['device']['cpu']}, "
        f"{len(result['device']['devices'])} TensorFlow devices; "
        f"total {result['seconds']:.0f} s"
    )
    if _OUTPUT.value:
        files.write_json(_OUTPUT.value, result)
        print(f"Wrote {_OUTPUT.value}")


if __name__ == "__main__":
    cli.run(main)
