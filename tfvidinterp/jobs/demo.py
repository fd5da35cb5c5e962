"""The main job on the embedded synthetic data, from nothing to a report.

`run` makes the synthetic dataset, trains each model (the demo: an I3D and a
C-LSTM), evaluates it forwards and time-reversed, explains test clips
with Grad-CAM and temporal masks optimised for 'freeze' and for 'reverse',
measures the faithfulness of the freeze masks, compares the models in HTML
reports and exports SavedModels: every stage is a library call.

`<workdir>/demo_state.json` (`tfvidinterp.jobs.stages`) records the options and
each stage's progress: a re-run skips a finished stage whose outputs are
there, resumes an interrupted one (`prepare`, `train` and `explain` resume
their own work), and redoes from scratch, its outputs deleted first, a stage
whose inputs changed or that reads a stage redone from scratch.
"""

import copy
import functools
import os
import time

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import prepare
from tfvidinterp.data import video_ops
from tfvidinterp.jobs import compare
from tfvidinterp.jobs import demo_summary
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import export
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import resultsdir
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import stages
from tfvidinterp.jobs import train

STATE = "demo_state.json"
DATA = "data"
# Training may stop on validation accuracy (`train.target_accuracy`), so the
# demo measures and explains the held-out test split.
SPLIT = "test"
# The report of each mask perturbation (freeze first: the paper's).
REPORTS = {"freeze": "report", "reverse": "report_reverse"}
# Train, validation, test. Both models reach their target within about 1.5
# passes over 1,600 clips (docs/experiments/2026-12-03-synthetic-redesign.md);
# 200 validation clips decide when training stops, evaluated every 25 steps.
SYNTHETIC_CLIPS = (1600, 200, 200)
SMOKE_SYNTHETIC_CLIPS = (16, 8, 8)
# Each stage, after the stages whose outputs it reads.
STAGES = {
    "data": (),
    "train": ("data",),
    "evaluate": ("train",),
    "explain": ("train",),
    "faithfulness": ("explain",),
    "compare": ("evaluate", "explain", "faithfulness"),
    "export": ("train",),
}


def run(
    workdir: str,
    configs: dict,
    compare_config,
    *,
    clips: int = 8,
    synthetic_clips=SYNTHETIC_CLIPS,
    seed: int = 0,
    fresh: bool = False,
) -> dict:
    """Runs (or resumes) every stage of the demo in `workdir`.

    Prints a line as each stage starts and ends (`[k/8] <stage> ...`), the
    stages' own progress bars, and a summary at the end.

    Args:
        workdir: The demo's directory: empty, missing, or a demo's.
        configs: Run name -> training config (`configs/*_synthetic.py`);
            `input.data_dir` is replaced by `<workdir>/data`. Their
            `input.num_frames` and `input.image_size` must agree.
        compare_config: `configs/compare.py`'s config.
        clips: Test clips to explain with each model and mask.
        synthetic_clips: Train, validation and test clips of the dataset,
            a sequence or "800,200,200".
        seed: Seed of the synthetic dataset and of every training run
            (`config.seed`).
        fresh: Delete the demo's outputs in `workdir` first.

    Returns:
        The summary (`demo_summary.summary`), with `seconds`: this call's
        time.

    Raises:
        errors.InputError: Bad options, configs that disagree, or a
            `workdir` that is a file or a non-empty non-demo directory.
    """
    start = time.time()
    counts = _counts(synthetic_clips)
    demo = _Demo(
        os.path.abspath(workdir), configs, compare_config, clips, counts, seed
    )
    job = stages.Stages(
        demo.workdir,
        STATE,
        demo.options,
        fresh=fresh,
        outputs=[DATA, *REPORTS.values(), *demo.runs],
    )
    for number, (stage, after) in enumerate(STAGES.items(), 1):
        _run_stage(job, demo, number, stage, after)
    print(f"[{len(STAGES) + 1}/{len(STAGES) + 1}] summary", flush=True)
    summary = demo_summary.summary(demo, job.seconds(), list(REPORTS))
    summary["seconds"] = round(time.time() - start, 1)
    print(demo_summary.text(summary, demo))
    return summary


def _run_stage(job, demo, number, stage, after):
    """Runs stage `number` of the demo, printing when it starts and ends."""
    prefix = f"[{number}/{len(STAGES) + 1}] {stage}"
    print(f"{prefix} ...", flush=True)
    began = time.time()
    status = job.run(stage, *demo.plan(stage), after=after)
    print(f"{prefix}: {status} ({time.time() - began:.1f} s)", flush=True)


def _counts(value):
    parts = value.split(",") if isinstance(value, str) else value
    try:
        counts = [int(part) for part in parts]
    except (TypeError, ValueError):
        counts = []
    if len(counts) != 3 or min(counts) < 0 or not all(counts):
        raise errors.InputError(
            "synthetic_clips must be train,validation,test clip counts, "
            f"each > 0; got {value!r}"
        )
    return counts


class _Demo:
    """The demo's paths and configs, and how each stage is done."""

    def __init__(self, workdir, configs, compare_config, clips, counts, seed):
        if clips < 1:
            raise errors.InputError(f"clips must be >= 1, got {clips}")
        frames = {c.input.num_frames for c in configs.values()}
        if len(frames) != 1:
            raise errors.InputError(
                f"the configs' num_frames differ: {sorted(frames)}"
            )
        clash = set(configs) & {DATA, STATE, *REPORTS.values()}
        if clash:
            raise errors.InputError(f"run names {sorted(clash)} are taken")
        self.workdir, self.clips, self.counts = workdir, clips, counts
        self.seed = seed
        self.data = os.path.join(workdir, DATA)
        self.runs = {name: os.path.join(workdir, name) for name in configs}
        # One dataset per frame size, each model reading its own: resizing
        # 64x64 clips to 32x32 in the input pipeline cost the C-LSTM 11
        # points of accuracy (0.865 against 0.978 on clips drawn at 32x32).
        self.data_dirs, self.configs = {}, {}
        for name, config in configs.items():
            size = video_ops.height_width(config.input.image_size)
            path = os.path.join(self.data, "x".join(map(str, size)))
            self.data_dirs[size] = path
            self.configs[name] = copy.deepcopy(config)
            self.configs[name].input.data_dir = path
            self.configs[name].seed = seed
        self.compare_config = compare_config
        # As JSON stores them, so a re-run compares like with like.
        self.options = files.as_json(
            {
                "clips": clips,
                "synthetic_clips": counts,
                "seed": seed,
                "configs": {n: c.to_dict() for n, c in self.configs.items()},
                "compare": compare_config.to_dict(),
            }
        )

    def plan(self, stage):
        """`(inputs, parts, outputs)` of `stage` for `stages.Stages.run`:
        what its results depend on, its parts (one per run or report) and
        what a redo from scratch deletes."""
        return getattr(self, f"_plan_{stage}")()

    def _each(self, function, files):
        """A part per run: `function(run)`, done when `files(run)` exist."""
        return [
            stages.Part(n, functools.partial(function, n), tuple(files(n)))
            for n in self.runs
        ]

    def _plan_data(self):
        config = next(iter(self.configs.values()))
        inputs = [
            self.counts,
            config.input.num_frames,
            sorted(self.data_dirs),
            self.seed,
        ]
        parts = [
            stages.Part(
                os.path.basename(path),
                functools.partial(self._prepare, size),
                (os.path.join(path, prepare.INFO_FILE),),
            )
            for size, path in sorted(self.data_dirs.items())
        ]
        return inputs, parts, [self.data]

    def _plan_train(self):
        inputs = {
            n: {k: v for k, v in c.items() if k != "interp"}
            for n, c in self.options["configs"].items()
        }
        parts = self._each(
            self._train, lambda n: [rundir.path(self.runs[n], rundir.MODEL)]
        )
        return inputs, parts, list(self.runs.values())

    def _plan_evaluate(self):
        parts = self._each(self._evaluate, lambda n: [self.eval_file(n)])
        outputs = [
            rundir.path(r, *names)
            for r in self.runs.values()
            for names in ((rundir.EVAL,), (rundir.TENSORBOARD, "evaluate"))
        ]
        return SPLIT, parts, outputs

    def _plan_explain(self):
        parts = self._each(
            self._explain,
            lambda n: [
                os.path.join(self.results_dir(n, p), resultsdir.RESULTS)
                for p in REPORTS
            ],
        )
        outputs = [rundir.path(r, rundir.EXPLAIN) for r in self.runs.values()]
        return [self.clips, self._interp()], parts, outputs

    def _plan_faithfulness(self):
        parts = self._each(
            self._faithfulness, lambda n: [self.faithfulness_file(n)]
        )
        return None, parts, [self.faithfulness_file(n) for n in self.runs]

    def _plan_compare(self):
        parts = [
            stages.Part(
                p, functools.partial(self._compare, p), (self.report(p),)
            )
            for p in REPORTS
        ]
        outputs = [os.path.dirname(self.report(p)) for p in REPORTS]
        return self.options["compare"], parts, outputs

    def _plan_export(self):
        parts = self._each(
            self._export,
            lambda n: [
                os.path.join(path, "saved_model.pb")
                for path in self.saved_models(n).values()
            ],
        )
        outputs = [rundir.path(r, rundir.EXPORT) for r in self.runs.values()]
        return self._interp(), parts, outputs

    def _interp(self):
        """Each run's `interp` options, as the state records them."""
        return {n: c["interp"] for n, c in self.options["configs"].items()}

    def eval_file(self, name):
        return rundir.path(self.runs[name], rundir.EVAL, f"{SPLIT}.json")

    def results_dir(self, name, perturbation):
        return rundir.path(
            self.runs[name], rundir.EXPLAIN, f"{SPLIT}_{perturbation}"
        )

    def faithfulness_file(self, name):
        return os.path.join(
            self.results_dir(name, "freeze"), resultsdir.FAITHFULNESS
        )

    def report(self, perturbation):
        return os.path.join(self.workdir, REPORTS[perturbation], "report.html")

    def saved_models(self, name):
        return export.saved_model_paths(self.runs[name])

    def _prepare(self, size):
        config = next(iter(self.configs.values()))
        # In-process generation beats a worker pool here: 9 s against 14 s
        # for 1,200 clips on 2 cores, the pool's start-up being the cost.
        # A seed draws the same scene at every size, so both models see the
        # same clips (`tfvidinterp.data.synthetic`).
        prepare.run(
            "synthetic",
            self.data_dirs[size],
            num_workers=0,
            source_options=dict(
                num_clips=self.counts,
                num_frames=config.input.num_frames,
                image_size=list(size),
                seed=self.seed,
            ),
        )

    def _train(self, name):
        train.run(self.configs[name], self.runs[name])

    def _evaluate(self, name):
        evaluate.run(self.configs[name], self.runs[name], SPLIT)

    def _explain(self, name):
        # One model, one compiled Grad-CAM and one traced mask optimiser
        # serve both perturbations.
        explainer = explain.load_explainer(self.configs[name], self.runs[name])
        for perturbation in REPORTS:
            config = copy.deepcopy(self.configs[name])
            config.interp.perturbation = perturbation
            explain.run(
                config,
                self.runs[name],
                split=SPLIT,
                output_dir=self.results_dir(name, perturbation),
                max_clips=self.clips,
                explainer=explainer,
            )

    def _faithfulness(self, name):
        faithfulness.run(
            self.configs[name],
            self.runs[name],
            self.results_dir(name, "freeze"),
        )

    def _compare(self, perturbation):
        compare.run(
            [self.results_dir(n, perturbation) for n in self.runs],
            os.path.dirname(self.report(perturbation)),
            self.compare_config,
            eval_files=[self.eval_file(n) for n in self.runs],
            warnings=demo_summary.accuracy_warnings(self),
        )

    def _export(self, name):
        export.run(self.configs[name], self.runs[name])
