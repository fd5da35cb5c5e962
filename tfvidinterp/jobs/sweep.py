"""Trains one config under several seeds: how reliably and how fast it learns.

Training on the synthetic task can switch on suddenly, at a step that varies
from seed to seed, so one run says little about a recipe. `run` trains the
config once per seed (each in `<workdir>/seed_<n>`) and reports, per seed,
the step at which validation accuracy first reached `train.target_accuracy`
and the accuracy it ended with, and optionally the top-1 of the checkpoint it
stopped at on a held-out split (validation accuracy decides the stop, so it
over-states the stopped model's; the held-out figure is the one a user
gets); `summarize` pools them into "k of n seeds, steps-to-target".
Finished seeds are kept in `<workdir>/sweep.jsonl`, so an interrupted sweep
resumes; a seed interrupted mid-training is trained again
from scratch, so that every row is one uninterrupted run.
"""

import copy
import json
import os
import shutil

import numpy as np

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import prepare
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train

ROWS = "sweep.jsonl"  # One finished seed per line, appended.
SUMMARY = "sweep.json"


def run(config, workdir: str, seeds, test_split: str | None = None) -> dict:
    """Trains `config` once per seed in `seeds` and summarises the runs.

    Args:
        config: A training config with `train.target_accuracy` > 0.
        workdir: The sweep's directory.
        seeds: Distinct ints, the `config.seed` of each run.
        test_split: A split to evaluate each seed's last checkpoint on
            (forward top-1, and on time-reversed clips), or None.

    Returns:
        `summarize`'s dict, also written to `<workdir>/sweep.json`.

    Raises:
        errors.InputError: No seeds, repeated seeds, no target accuracy, or
            a `test_split` the dataset lacks.
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise errors.InputError(
            f"seeds must be distinct and non-empty, got {seeds}"
        )
    if not config.train.target_accuracy > 0:
        raise errors.InputError(
            "a sweep measures steps to train.target_accuracy; set it > 0"
        )
    if test_split:
        # Before hours of training, not after the first seed.
        data_dir = config.input.data_dir
        evaluate.check_split(prepare.read_info(data_dir), test_split, data_dir)
    rows = {row["seed"]: row for row in read_rows(workdir)}
    for number, seed in enumerate(seeds, 1):
        if seed in rows:
            continue
        print(f"[sweep {number}/{len(seeds)}] seed {seed}", flush=True)
        run_dir = rundir.path(workdir, f"seed_{seed}")
        shutil.rmtree(run_dir, ignore_errors=True)
        seeded = copy.deepcopy(config)
        seeded.seed = seed
        result = train.run(seeded, run_dir)
        rows[seed] = {
            "seed": seed,
            "stopped_at": result["stopped_at"],
            "final_step": result["final_step"],
            "accuracy": result["eval_accuracy"],
            "history": result["eval_history"],
            "seconds": round(result["seconds"], 1),
        }
        if test_split:
            rows[seed].update(_held_out(run_dir, test_split))
        with open(rundir.path(workdir, ROWS), "a") as f:
            f.write(json.dumps(rows[seed]) + "\n")
    summary = summarize(
        [rows[seed] for seed in seeds],
        config.train.target_accuracy,
        config.train.epochs * config.train.steps_per_epoch,
    )
    files.write_json(rundir.path(workdir, SUMMARY), files.jsonable(summary, 4))
    return summary


def _held_out(run_dir: str, split: str) -> dict:
    """`test_split`, `test_accuracy` and `test_reversed` (top-1) of a
    run's last checkpoint."""
    result = evaluate.run(None, run_dir, split)
    return {
        "test_split": split,
        "test_accuracy": result["forward"]["top1"],
        "test_reversed": result["reversed"]["top1"],
    }


def read_rows(workdir: str) -> list:
    """The finished seeds' rows of a sweep directory ([] for none)."""
    path = rundir.path(workdir, ROWS)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        # A line cut short by a kill is a seed that did not finish.
        return [json.loads(line) for line in f if line.endswith("\n")]


def summarize(rows, target: float, step_cap: int) -> dict:
    """Pools per-seed rows into the sweep's figures.

    Args:
        rows: `run`'s per-seed rows.
        target: The target accuracy.
        step_cap: The most steps a run may take (0: one epoch, unknown).

    Returns:
        `seeds`, `reached` (how many stopped at the target), `target`,
        `step_cap`, `steps_to_target` (sorted steps of the runs that
        reached it), their `median_steps` and `max_steps` (None if none
        did), `accuracy` (each seed's last validation accuracy), `missed`
        (seeds that did not reach it), `seconds` (mean training time per
        seed), `test_accuracy` (each seed's held-out top-1, None for a row
        without one) and `rows`.
    """
    steps = sorted(r["stopped_at"] for r in rows if r["stopped_at"])
    return {
        "seeds": len(rows),
        "reached": len(steps),
        "target": target,
        "step_cap": step_cap,
        "steps_to_target": steps,
        "median_steps": float(np.median(steps)) if steps else None,
        "max_steps": max(steps) if steps else None,
        "accuracy": [r["accuracy"] for r in rows],
        "missed": [r["seed"] for r in rows if not r["stopped_at"]],
        "seconds": float(np.mean([r["seconds"] for r in rows])),
        "test_accuracy": [r.get("test_accuracy") for r in rows],
        "rows": list(rows),
    }


def summary_text(summary: dict) -> str:
    """A few lines for a terminal: k of n, steps-to-target, misses."""
    lines = [
        f"{summary['reached']} of {summary['seeds']} seeds reached "
        f"{summary['target']} validation accuracy within "
        f"{summary['step_cap']} steps.",
        "Steps to target: "
        + (", ".join(map(str, summary["steps_to_target"])) or "none")
        + (
            f" (median {summary['median_steps']:g})"
            if summary["median_steps"] is not None
            else ""
        ),
        "Final validation accuracy per seed: "
        + ", ".join(
            f"{r['seed']}: {r['accuracy']:.3f}" for r in summary["rows"]
        ),
        f"Training time per seed: {summary['seconds']:.1f} s (mean).",
    ]
    tested = [r for r in summary["rows"] if "test_accuracy" in r]
    if tested:
        values = [r["test_accuracy"] for r in tested]
        lines.append(
            f"{tested[0]['test_split']} top-1 of the last checkpoint per "
            "seed: "
            + ", ".join(
                f"{r['seed']}: {r['test_accuracy']:.3f}" for r in tested
            )
            + f" (min {min(values):.3f}, median {np.median(values):.3f})"
        )
    if summary["missed"]:
        lines.append(f"Missed the target: seeds {summary['missed']}.")
    return "\n".join(lines)
