"""The I3D's bf16/f32 rows over independent processes: their spread.

One measurement (`2026-12-03-bf16-rows.py`) moves by +-0.15 between runs on
this shared machine, more than within a run. This starts RUNS fresh
processes, each timing the benchmark's `precision` rows for the full-width
I3D (174 classes, 16x112^2, paper strides) at each batch size in BATCHES,
ROUNDS interleaved rounds, and prints every ratio, their median and how
many reach the 1.6x target.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-distribution.py RUNS ROUNDS 4,8
"""

import json
import statistics
import subprocess
import sys

_ONE_RUN = """
import json, sys
sys.path.insert(0, ".")
import tfvidinterp
from benchmarks import suite
from configs import benchmark
config = benchmark.get_config()
config.sections = ("precision",)
config.models = ("i3d",)
config.num_classes = 174
config.image_size = 112
config.i3d = dict(width=1.0, original_strides=True)
config.repeats = {rounds}
config.precision.batch_size = {batch}
rows = suite.run(config)["rows"]
print("ROWS", json.dumps({{r["name"].split()[2]: r["ratio"] for r in rows}}))
"""


def one_run(rounds, batch):
    code = _ONE_RUN.format(rounds=rounds, batch=batch)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    for line in result.stdout.splitlines():
        if line.startswith("ROWS "):
            return json.loads(line[5:])
    raise RuntimeError(result.stderr[-2000:])


def main(runs, rounds, batches):
    for batch in batches:
        ratios = {}
        for _ in range(runs):
            for kind, ratio in one_run(rounds, batch).items():
                ratios.setdefault(kind, []).append(ratio)
            print("load", open("/proc/loadavg").read().split()[:3], flush=True)
        for kind, values in ratios.items():
            met = sum(value >= 1.6 for value in values)
            print(
                f"b={batch} {kind}: median {statistics.median(values):.2f},"
                f" {min(values):.2f}-{max(values):.2f}, >= 1.6 in {met} of"
                f" {len(values)}:",
                " ".join(f"{value:.2f}" for value in values),
                flush=True,
            )


if __name__ == "__main__":
    main(
        int(sys.argv[1]),
        int(sys.argv[2]),
        [int(batch) for batch in sys.argv[3].split(",")],
    )
