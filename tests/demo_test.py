"""Tests for tfvidinterp.jobs.demo, its library calls replaced by fakes.

Each fake writes the files its real call would leave, holding what it was
asked to do and a fresh token. The tests read the demo's behaviour from
what it prints (each stage done, skipped or resumed), from those files (what
each stage was given, which outputs a re-run rewrote) and from its summary;
demo_binary_test runs the real thing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from unittest import mock

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import prepare
from tfvidinterp.jobs import compare
from tfvidinterp.jobs import demo
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import export
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import stages
from tfvidinterp.jobs import train

MET = {
    "mask_iou": True,
    "pointing_game": True,
    "energy": True,
    "deletion": True,
    "sanity": None,
}
_STATUS = re.compile(r"^\[\d/8\] (\w+): (.+) \([\d.]+ s\)$", re.M)


def _write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)


def _read(path):
    with open(path) as f:
        return json.load(f)


class FakeLibrary:
    """The library calls `demo.run` makes, as fakes that write files.

    `top1` (run -> test accuracy) and `targets` (run -> faithfulness
    targets met) set what the evaluations and measures report; `fail`,
    a `(run, perturbation)`, makes that explanation fail as if killed.
    """

    def __init__(self):
        self.top1 = {"i3d": 0.5, "clstm": 0.5}
        self.targets = {"i3d": dict(MET), "clstm": dict(MET)}
        self.fail = None
        self.tokens = 0

    def patches(self):
        return [
            mock.patch.object(module, name, getattr(self, fake))
            for module, name, fake in (
                (prepare, "run", "prepare"),
                (train, "run", "train"),
                (train, "restore", "restore"),
                (evaluate, "run", "evaluate"),
                (explain, "make_grad_cam", "make_grad_cam"),
                (explain, "make_masker", "make_masker"),
                (explain, "run", "explain"),
                (faithfulness, "run", "faithfulness"),
                (compare, "run", "compare"),
                (export, "run", "export"),
            )
        ]

    def write(self, path, **values):
        self.tokens += 1
        _write(path, dict(values, token=self.tokens))

    def prepare(self, source, output_dir, **options):
        self.write(
            os.path.join(output_dir, prepare.INFO_FILE),
            source=source,
            **options["source_options"],
        )

    def train(self, config, workdir):
        self.write(
            os.path.join(workdir, "model.keras"),
            data_dir=config.input.data_dir,
            seed=config.seed,
            epochs=config.train.epochs,
        )

    def restore(self, config, workdir, precision="run"):
        model = f"model of {os.path.basename(workdir)}"
        return train.Restored(model, {}, 2, config, "float32")

    def make_grad_cam(self, model, interp):
        return f"Grad-CAM of the {model}"

    def make_masker(self, model, interp):
        return f"masker of the {model}"

    def evaluate(self, config, workdir, split):
        top1 = self.top1[os.path.basename(workdir)]
        result = {"top1": top1, "top5": 1.0, "macro_f1": top1, "f1": {}}
        self.write(
            os.path.join(workdir, "eval", f"{split}.json"),
            forward=result,
            reversed=dict(result, top1=top1 / 2),
        )

    def explain(
        self, config, workdir, *, split, output_dir, max_clips, **shared
    ):
        del shared  # The model's explainers, shared by both perturbations.
        perturbation = config.interp.perturbation
        if self.fail == (os.path.basename(workdir), perturbation):
            raise RuntimeError("killed")
        self.write(
            os.path.join(output_dir, "results.jsonl"),
            split=split,
            max_clips=max_clips,
            perturbation=perturbation,
        )

    def faithfulness(self, config, workdir, results_dir):
        run = os.path.basename(workdir)
        self.write(
            os.path.join(results_dir, "faithfulness.json"),
            **dict(
                testing.FAITHFULNESS,
                run=run,
                model_name=config.model_name,
                results_dir=results_dir,
                targets=self.targets[run],
            ),
        )

    def compare(self, results_dirs, output_dir, config, eval_files, warnings):
        # Not HTML: what the report was made from.
        self.write(
            os.path.join(output_dir, "report.html"),
            results_dirs=results_dirs,
            eval_files=eval_files,
            max_gifs=config.max_gifs,
            warnings=warnings,
        )

    def export(self, config, run_dir):
        paths = export.saved_model_paths(run_dir)
        for path in paths.values():
            self.write(
                os.path.join(path, "saved_model.pb"), layer=config.interp.layer
            )
        return paths


class DemoTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = os.path.join(self.get_temp_dir(), "demo")
        self.configs, self.compare = testing.demo_configs()
        self.library = FakeLibrary()
        for patch in self.library.patches():
            self.enterContext(patch)

    def run_demo(self, **options):
        """`(summary, {stage: status}, printed)` of a demo run."""
        options = {"clips": 3, "synthetic_clips": "6,4,4", **options}
        summary, out = testing.run_demo_quietly(
            self.workdir, self.configs, self.compare, **options
        )
        return summary, dict(_STATUS.findall(out)), out

    def redone(self, **options):
        """The stages a demo run did not skip."""
        return [
            stage
            for stage, status in self.run_demo(**options)[1].items()
            if status != stages.SKIPPED
        ]

    def path(self, *names):
        return os.path.join(self.workdir, *names)

    def read(self, *names):
        return _read(self.path(*names))

    def files(self):
        """Path -> contents of every file the stages wrote."""
        found = {}
        for root, _, names in os.walk(self.workdir):
            for name in names:
                path = os.path.join(root, name)
                if name != demo.STATE:
                    with open(path) as f:
                        found[os.path.relpath(path, self.workdir)] = f.read()
        return found

    def test_first_run_does_every_stage_in_the_demo_directory(self):
        summary, statuses, out = self.run_demo()
        self.assertEqual(
            list(statuses.items()),
            [(stage, stages.DONE) for stage in demo.STAGES],
        )
        data = self.path("data", "32x32")
        info = _read(os.path.join(data, prepare.INFO_FILE))
        self.assertEqual(
            {k: v for k, v in info.items() if k != "token"},
            dict(
                source="synthetic",
                num_clips=[6, 4, 4],
                num_frames=8,
                image_size=[32, 32],
                seed=0,
            ),
        )
        for run in ("i3d", "clstm"):
            model = self.read(run, "model.keras")
            self.assertEqual((model["data_dir"], model["seed"]), (data, 0))
            self.assertTrue(os.path.exists(self.path(run, "eval", "test.json")))
            for perturbation in ("freeze", "reverse"):
                results = self.read(
                    run, "explain", f"test_{perturbation}", "results.jsonl"
                )
                self.assertEqual(
                    (
                        results["split"],
                        results["max_clips"],
                        results["perturbation"],
                    ),
                    ("test", 3, perturbation),
                )
            # Only the freeze masks (the paper's) are measured.
            explained = self.path(run, "explain")
            self.assertTrue(
                os.path.exists(
                    os.path.join(explained, "test_freeze", "faithfulness.json")
                )
            )
            self.assertFalse(
                os.path.exists(
                    os.path.join(explained, "test_reverse", "faithfulness.json")
                )
            )
            self.assertEqual(
                summary["saved_models"][run],
                {
                    kind: self.path(run, "export", kind)
                    for kind in ("classifier", "explainer")
                },
            )
            for path in summary["saved_models"][run].values():
                self.assertTrue(
                    os.path.exists(os.path.join(path, "saved_model.pb"))
                )
                self.assertIn(path, out)
        self.assertEqual(
            summary["reports"],
            {
                "freeze": self.path("report", "report.html"),
                "reverse": self.path("report_reverse", "report.html"),
            },
        )
        for perturbation, path in summary["reports"].items():
            report = _read(path)
            self.assertEqual(
                report["results_dirs"],
                [
                    self.path(run, "explain", f"test_{perturbation}")
                    for run in ("i3d", "clstm")
                ],
            )
            self.assertEqual(
                report["eval_files"],
                [
                    self.path(run, "eval", "test.json")
                    for run in ("i3d", "clstm")
                ],
            )
            self.assertEqual(report["max_gifs"], 2)
            self.assertIn(f"file://{path}\n", out)
        self.assertEqual(
            summary["accuracy"],
            {
                run: {"forward": 0.5, "reversed": 0.25}
                for run in ("i3d", "clstm")
            },
        )
        self.assertIn(
            "| Measure | Target | I3D (i3d) |", summary["faithfulness"]
        )
        self.assertIn("| C-LSTM (clstm) |", summary["faithfulness"])
        self.assertEqual(list(summary["stage_seconds"]), list(demo.STAGES))
        for text in (
            "[8/8] summary\n",
            "  i3d: 0.500 / 0.250\n",
            summary["faithfulness"],
            f"tensorboard --logdir {self.workdir}\n",
            "np.zeros((1, 8, 32, 32, 3), np.float32)",
        ):
            self.assertIn(text, out)

    def test_missed_targets_are_said_loudly(self):
        self.library.top1["i3d"] = 0.97
        self.library.targets["clstm"]["energy"] = False
        summary, _, out = self.run_demo()
        warnings = summary["warnings"]
        self.assertLen(warnings, 2)
        self.assertStartsWith(
            warnings[0], "clstm: test accuracy 0.500 is below 0.95"
        )
        self.assertIn("another --seed", warnings[0])
        self.assertStartsWith(
            warnings[1],
            "clstm: energy: Grad-CAM at layer Mixed_3c puts under 2x",
        )
        self.assertIn("WARNING: 2 target(s) missed", out)
        for warning in warnings:
            self.assertIn(f"  - {warning}\n", out)
        # The reports' banners get the accuracy warnings (compare adds the
        # faithfulness ones itself).
        for path in summary["reports"].values():
            self.assertEqual(_read(path)["warnings"], warnings[:1])

    def test_met_targets_are_said_once(self):
        self.library.top1 = {"i3d": 0.96, "clstm": 0.95}
        summary, _, out = self.run_demo()
        self.assertEqual(summary["warnings"], [])
        self.assertNotIn("WARNING", out)
        self.assertIn(
            "Every target accuracy and faithfulness target was met.", out
        )
        for path in summary["reports"].values():
            self.assertEqual(_read(path)["warnings"], [])

    def test_seed_sets_the_data_and_every_training(self):
        self.run_demo(seed=7)
        self.assertEqual(
            self.read("data", "32x32", prepare.INFO_FILE)["seed"], 7
        )
        for run in ("i3d", "clstm"):
            self.assertEqual(self.read(run, "model.keras")["seed"], 7)
        self.assertEqual(self.redone(seed=8), list(demo.STAGES))

    def test_rerun_skips_and_lost_or_unfinished_work_is_redone(self):
        self.run_demo()
        with open(self.path(demo.STATE)) as f:
            state = f.read()
        written = self.files()
        _, statuses, out = self.run_demo()
        self.assertEqual(set(statuses.values()), {stages.SKIPPED})
        self.assertEqual(out.count(f": {stages.SKIPPED} ("), 7)
        self.assertEqual(self.files(), written)
        with open(self.path(demo.STATE)) as f:
            self.assertEqual(f.read(), state)
        # Lost outputs: the stage is redone.
        shutil.rmtree(self.path("clstm", "export"))
        self.assertEqual(self.redone(), ["export"])
        self.assertTrue(
            os.path.exists(
                self.path("clstm", "export", "explainer", "saved_model.pb")
            )
        )
        # Unfinished work: the stage resumes.
        values = json.loads(state)
        values["stages"]["export"].update(finished=False, parts=[])
        _write(self.path(demo.STATE), values)
        statuses = self.run_demo()[1]
        self.assertEqual(statuses.pop("export"), stages.RESUMED)
        self.assertEqual(set(statuses.values()), {stages.SKIPPED})

    def test_changed_options_redo_the_stages_that_read_them(self):
        self.run_demo()
        self.assertEqual(
            self.redone(clips=2), ["explain", "faithfulness", "compare"]
        )
        self.assertEqual(
            self.read("clstm", "explain", "test_reverse", "results.jsonl")[
                "max_clips"
            ],
            2,
        )
        self.compare.max_gifs = 1
        self.assertEqual(self.redone(clips=2), ["compare"])
        self.assertEqual(self.read("report", "report.html")["max_gifs"], 1)
        self.configs["clstm"].train.epochs = 2
        self.assertEqual(self.redone(clips=2), list(demo.STAGES)[1:])
        self.assertEqual(self.read("clstm", "model.keras")["epochs"], 2)
        self.configs["clstm"].interp.layer = "conv_lstm2d"
        self.assertEqual(
            self.redone(clips=2),
            ["explain", "faithfulness", "compare", "export"],
        )
        self.assertEqual(
            self.redone(clips=2, synthetic_clips=(7, 4, 4)), list(demo.STAGES)
        )

    def test_an_interrupted_stage_resumes(self):
        self.library.fail = ("clstm", "freeze")
        with self.assertRaisesRegex(RuntimeError, "killed"):
            self.run_demo()
        self.assertFalse(os.path.exists(self.path("clstm", "explain")))
        i3d = {
            path: text
            for path, text in self.files().items()
            if path.startswith(os.path.join("i3d", "explain"))
        }
        self.assertLen(i3d, 2)
        self.library.fail = None
        _, statuses, out = self.run_demo()
        self.assertIn("[4/8] explain: resumed (", out)
        self.assertEqual(
            statuses,
            {
                "data": stages.SKIPPED,
                "train": stages.SKIPPED,
                "evaluate": stages.SKIPPED,
                "explain": stages.RESUMED,
                "faithfulness": stages.DONE,
                "compare": stages.DONE,
                "export": stages.DONE,
            },
        )
        # The I3D's explanations, done before the kill, are kept.
        written = self.files()
        for path, text in i3d.items():
            self.assertEqual(written[path], text)
        for perturbation in ("freeze", "reverse"):
            self.assertIn(
                os.path.join(
                    "clstm", "explain", f"test_{perturbation}", "results.jsonl"
                ),
                written,
            )

    def test_fresh_starts_clean_and_other_directories_are_refused(self):
        self.run_demo()
        stale = self.path("data", "stale")
        _write(stale, {})
        self.assertEqual(self.redone(fresh=True), list(demo.STAGES))
        self.assertFalse(os.path.exists(stale))
        other = os.path.join(self.get_temp_dir(), "other")
        _write(os.path.join(other, "notes.json"), {})
        for fresh in (False, True):
            with self.assertRaisesRegex(
                errors.InputError,
                "other is not empty and has no demo_state.json",
            ):
                testing.run_demo_quietly(
                    other, self.configs, self.compare, fresh=fresh
                )
        self.assertEqual(os.listdir(other), ["notes.json"])

    def tamper(self):
        """A file outside the demo, and its state file listing it."""
        outside = os.path.join(self.get_temp_dir(), "outside.txt")
        _write(outside, {"the user's": True})
        state = self.read(demo.STATE)
        state["outputs"].append(os.path.relpath(outside, self.workdir))
        _write(self.path(demo.STATE), state)
        return outside

    def test_fresh_never_deletes_outside_the_demo(self):
        self.run_demo()
        outside = self.tamper()
        with self.assertRaisesRegex(
            errors.InputError,
            f"^{self.workdir}/../outside.txt is not inside {self.workdir}: "
            f"not deleted; delete {self.workdir} by hand",
        ):
            self.run_demo(fresh=True)
        self.assertTrue(os.path.exists(outside))
        self.assertTrue(os.path.exists(self.path("i3d", "model.keras")))

    @pytest.mark.slow
    def test_binary_refuses_a_tampered_state_file_in_one_line(self):
        self.run_demo()
        outside = self.tamper()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.demo",
                f"--workdir={self.workdir}",
                "--fresh",
                "--smoke",
            ],
            cwd=testing.REPO,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        lines = [
            line
            for line in result.stderr.splitlines()
            if line.startswith("demo.py:")
        ]
        self.assertEqual(
            lines,
            [
                f"demo.py: error: {self.workdir}/../outside.txt is not inside "
                f"{self.workdir}: not deleted; delete {self.workdir} by hand "
                "if it is this job's"
            ],
        )
        self.assertNotIn("Traceback", result.stderr)
        self.assertTrue(os.path.exists(outside))

    def test_each_frame_size_gets_its_own_dataset(self):
        self.configs["clstm"].input.image_size = 16
        self.run_demo()
        data = self.path("data")
        self.assertEqual(sorted(os.listdir(data)), ["16x16", "32x32"])
        for size in (16, 32):
            info = _read(
                os.path.join(data, f"{size}x{size}", prepare.INFO_FILE)
            )
            self.assertEqual(info["image_size"], [size, size])
        self.assertEqual(
            self.read("i3d", "model.keras")["data_dir"],
            os.path.join(data, "32x32"),
        )
        self.assertEqual(
            self.read("clstm", "model.keras")["data_dir"],
            os.path.join(data, "16x16"),
        )
        # A new frame size redoes the data (the old size's is deleted).
        self.configs["clstm"].input.image_size = 24
        self.run_demo()
        self.assertEqual(sorted(os.listdir(data)), ["24x24", "32x32"])

    def test_bad_options(self):
        clstm = self.configs["clstm"]
        clstm.input.num_frames = 16
        for options, message in (
            (dict(clips=0), "clips must be >= 1, got 0"),
            (dict(synthetic_clips="8,8"), "got '8,8'"),
            (dict(synthetic_clips=(0, 8, 8)), r"got \(0, 8, 8\)"),
            (
                dict(configs={**self.configs, "clstm": clstm}),
                r"the configs. num_frames differ: \[8, 16\]",
            ),
        ):
            options = {"configs": {"i3d": self.configs["i3d"]}, **options}
            with self.assertRaisesRegex(errors.InputError, message):
                testing.run_demo_quietly(
                    self.workdir, compare_config=self.compare, **options
                )
        self.assertFalse(os.path.exists(self.workdir))


if __name__ == "__main__":
    tf.test.main()
