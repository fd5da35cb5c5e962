"""Steps to target of two seed sweeps (`binaries.sweep`), side by side.

For each sweep.jsonl: per seed the step it stopped at (its target), the
first evaluation at or above each of THRESHOLDS (from the run's history)
and the held-out test accuracy; then k of n and the median per column, over
the seeds both sweeps have.

    python docs/experiments/2026-12-03-bf16-parity.py A/sweep.jsonl \
        B/sweep.jsonl
"""

import json
import statistics
import sys

THRESHOLDS = (0.95, 0.97)


def rows(path):
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {r["seed"]: r for r in records}


def first_at(history, threshold):
    return next((step for step, acc in history if acc >= threshold), None)


def summary(records, seeds):
    out = {}
    for threshold in THRESHOLDS:
        steps = [first_at(records[s]["history"], threshold) for s in seeds]
        reached = [s for s in steps if s is not None]
        out[f"to {threshold}"] = (
            f"{len(reached)}/{len(seeds)}, median "
            f"{statistics.median(reached) if reached else 'n/a'}, "
            f"range {min(reached, default=None)}-{max(reached, default=None)}"
        )
    tests = [records[s].get("test_accuracy") for s in seeds]
    tests = [t for t in tests if t is not None]
    if tests:
        out["test top-1"] = (
            f"median {statistics.median(tests):.3f}, "
            f"range {min(tests):.3f}-{max(tests):.3f}"
        )
    return out


sweeps = {path: rows(path) for path in sys.argv[1:]}
seeds = sorted(set.intersection(*(set(r) for r in sweeps.values())))
print("seed", *(f"{p}: stop/to0.95/test" for p in sweeps), sep=" | ")
for seed in seeds:
    cells = []
    for records in sweeps.values():
        r = records[seed]
        cells.append(
            f"{r['stopped_at']}/{first_at(r['history'], 0.95)}"
            f"/{r.get('test_accuracy')}"
        )
    print(seed, *cells, sep=" | ")
for path, records in sweeps.items():
    print(path, json.dumps(summary(records, seeds)))
