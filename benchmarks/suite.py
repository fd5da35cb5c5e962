"""One benchmark run: the config's sections, in order, into one result."""

import functools
import tempfile
import time

import keras

from benchmarks import convlstm
from benchmarks import decode
from benchmarks import gradcam
from benchmarks import inputs
from benchmarks import masks
from benchmarks import passes
from benchmarks import precision
from benchmarks import table
from benchmarks import training
from tfvidinterp import errors

# Sections measured once per model of `config.models`.
PER_MODEL = {
    "masks": masks,
    "gradcam": gradcam,
    "training": training,
    "precision": precision,
}
# Sections measured once, with a scratch directory.
WITH_WORKDIR = {"inputs": inputs, "decode": decode}
SECTIONS = (*PER_MODEL, *WITH_WORKDIR, "convlstm")


def run(config) -> dict:
    """Runs every section of `config.sections`.

    `masks`, `gradcam` and `training` run for each of `config.models`;
    `convlstm` runs when they include "clstm".

    Args:
        config: The benchmark config (`configs/benchmark.py`).

    Returns:
        `rows` (`table.row` dicts, in order), `context` (lines of absolute
        times), `details` (per measurement, e.g. `"masks i3d"`), `device`
        (`table.device_info()`), `config` (as a dict) and `seconds` (the
        whole run).

    Raises:
        errors.InputError: An unknown section or model name.
    """
    unknown = sorted(set(config.sections) - set(SECTIONS))
    if unknown:
        raise errors.InputError(
            f"unknown benchmark sections {unknown}; known: {list(SECTIONS)}"
        )
    start = time.perf_counter()
    bench = passes.Workbench(config)
    for name in sorted({*config.models, config.inputs.model}):
        bench.model(name)  # Fails early on an unknown model name.
    result = dict(
        rows=[],
        context=[],
        details={},
        device=table.device_info(),
        config=config.to_dict(),
    )
    with tempfile.TemporaryDirectory() as workdir:
        jobs = _jobs(config, bench, workdir)
        progress = keras.utils.Progbar(len(jobs), unit_name="measurement")
        for label, measure in jobs:
            out = measure()
            result["rows"] += out["rows"]
            result["context"] += out["context"]
            result["details"][label] = out["details"]
            progress.add(1)
    result["seconds"] = time.perf_counter() - start
    return result


def _jobs(config, bench, workdir):
    """(label, function of no arguments) for every measurement."""
    jobs = []
    for section in config.sections:
        if section in PER_MODEL:
            measure = PER_MODEL[section].measure
            jobs += [
                (f"{section} {name}", functools.partial(measure, bench, name))
                for name in config.models
            ]
        elif section in WITH_WORKDIR:
            measure = WITH_WORKDIR[section].measure
            jobs.append((section, functools.partial(measure, bench, workdir)))
        elif "clstm" in config.models:
            jobs.append(
                (
                    "convlstm clstm",
                    functools.partial(convlstm.measure, bench, "clstm"),
                )
            )
    return jobs
