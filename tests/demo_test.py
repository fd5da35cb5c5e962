"""Tests for tfvidinterp.demo, against fakes of the library it calls."""

import contextlib
import io
import json
import os
import shutil
from unittest import mock

import tensorflow as tf

from tests import testing
from tfvidinterp import compare
from tfvidinterp import demo
from tfvidinterp import errors
from tfvidinterp import evaluate
from tfvidinterp import explain
from tfvidinterp import export
from tfvidinterp import faithfulness
from tfvidinterp import train
from tfvidinterp.data import prepare


def demo_configs():
    """The binary's `--smoke` configs: `(configs, compare_config)`."""
    return ({"i3d": testing.load_config("configs/i3d_synthetic.py", "smoke"),
             "clstm": testing.load_config("configs/clstm_synthetic.py",
                                          "smoke")},
            testing.load_config("configs/compare.py", "smoke"))


def run_quietly(workdir, configs, compare_config, **options):
    """`demo.run`'s summary and what it printed."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        summary = demo.run(workdir, configs, compare_config, **options)
    return summary, out.getvalue()


def _write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)


class DemoTest(tf.test.TestCase):
    """The stages against fakes of the library that log their calls."""

    def setUp(self):
        super().setUp()
        self.workdir = os.path.join(self.get_temp_dir(), "demo")
        self.configs, self.compare = demo_configs()
        self.calls, self.fail = [], None
        name = os.path.basename

        def log(*call):
            if call == self.fail:
                raise RuntimeError("killed")
            self.calls.append(call)

        def fake_explain(config, workdir, *, split, output_dir, max_clips,
                         cam, masker):
            self.assertEqual(cam, ("cam", name(workdir)))
            self.assertEqual(masker, ("masker", name(workdir)))
            log("explain", name(workdir), config.interp.perturbation,
                max_clips, split, name(output_dir))
            _write(os.path.join(output_dir, "results.jsonl"), {})

        def fake_compare(results_dirs, output_dir, config, eval_files,
                         warnings):
            log("compare", name(output_dir), config.max_gifs,
                *(os.path.relpath(p, self.workdir)
                  for p in results_dirs + eval_files), len(warnings))
            _write(os.path.join(output_dir, "report.html"), {})

        report = {"top1": 0.5, "top5": 1.0, "macro_f1": 0.5, "f1": {}}
        fakes = {
            (prepare, "run"): lambda source, output_dir, **kw: (
                log("data", source, output_dir, kw["source_options"]),
                _write(os.path.join(output_dir, prepare.INFO_FILE), {})),
            (train, "run"): lambda config, workdir: (
                log("train", name(workdir), config.input.data_dir,
                    config.seed),
                _write(os.path.join(workdir, "model.keras"), {})),
            (train, "load_model"): lambda config, workdir: (
                log("load", name(workdir)) or name(workdir), {}),
            (evaluate, "run"): lambda config, workdir, split: (
                log("evaluate", name(workdir), split),
                _write(os.path.join(workdir, "eval", f"{split}.json"), {
                    "forward": report,
                    "reversed": dict(report, top1=0.25)})),
            (explain, "make_grad_cam"): lambda model, interp: ("cam", model),
            (explain, "make_masker"): lambda model, interp: ("masker", model),
            (explain, "run"): fake_explain,
            (explain, "explainer_endpoint"): lambda model, config: "fn",
            (faithfulness, "run"): lambda config, workdir, results_dir: (
                log("faithfulness", name(workdir), name(results_dir)),
                _write(os.path.join(results_dir, "faithfulness.json"),
                       {"run": name(workdir), "layer": "x", "targets": {
                           "mask_iou": True,
                           "energy": name(workdir) == "i3d"}})),
            (faithfulness, "markdown_table"): lambda results: " & ".join(
                r["run"] for r in results),
            (compare, "run"): fake_compare,
            (export, "export_saved_model"): lambda model, path, **kw: (
                log("export", model, name(path), *kw.get("endpoints", ())),
                _write(os.path.join(path, "saved_model.pb"), {})),
        }
        for (module, attribute), fake in fakes.items():
            self.enterContext(mock.patch.object(module, attribute, fake))

    def run_demo(self, **options):
        self.calls.clear()
        options = {"clips": 3, "synthetic_clips": "6,4,4", **options}
        return run_quietly(self.workdir, self.configs, self.compare, **options)

    def stages_run(self):
        return list(dict.fromkeys(c[0] for c in self.calls if c[0] != "load"))

    def test_first_run_calls_each_stage_with_the_demo_paths(self):
        summary, out = self.run_demo()
        data = os.path.join(self.workdir, "data", "32x32")
        explained = []
        for m in ("i3d", "clstm"):
            explained += [("load", m)] + [
                ("explain", m, p, 3, "test", f"test_{p}")
                for p in ("freeze", "reverse")]
        self.assertEqual(self.calls, [
            ("data", "synthetic", data,
             dict(num_clips=[6, 4, 4], num_frames=8, image_size=[32, 32],
                  seed=0)),
            ("train", "i3d", data, 0), ("train", "clstm", data, 0),
            ("evaluate", "i3d", "test"),
            ("evaluate", "clstm", "test"),
            *explained,
            ("faithfulness", "i3d", "test_freeze"),
            ("faithfulness", "clstm", "test_freeze"),
            *[("compare", report, 2, f"i3d/explain/test_{p}",
               f"clstm/explain/test_{p}", "i3d/eval/test.json",
               "clstm/eval/test.json", 2)
              for p, report in demo.REPORTS.items()],
            *[call for m in ("i3d", "clstm") for call in (
                ("load", m), ("export", m, "classifier"),
                ("export", m, "explainer", "explain"))],
        ])
        self.assertEqual(summary["accuracy"], {
            m: {"forward": 0.5, "reversed": 0.25} for m in ("i3d", "clstm")})
        self.assertEqual(summary["faithfulness"], "i3d & clstm")
        self.assertEqual(set(summary["stage_seconds"]), set(demo.STAGES))
        for number, stage in enumerate(demo.STAGES, 1):
            self.assertIn(f"[{number}/8] {stage}: done (", out)
        for text in ("i3d: 0.500 / 0.250", "i3d & clstm", "[8/8] summary",
                     f"file://{self.workdir}/report/report.html",
                     f"tensorboard --logdir {self.workdir}\n",
                     f"{self.workdir}/clstm/export/explainer",
                     "np.zeros((1, 8, 32, 32, 3), np.float32)"):
            self.assertIn(text, out)

    def test_missed_targets_are_said_loudly(self):
        # The fakes: test accuracy 0.5 against the demo's 0.95, and the
        # C-LSTM's energy target missed.
        summary, out = self.run_demo()
        self.assertLen(summary["warnings"], 3)
        self.assertStartsWith(summary["warnings"][0], "i3d: test accuracy "
                              "0.500 is below 0.95")
        self.assertIn("another --seed", summary["warnings"][0])
        self.assertStartsWith(summary["warnings"][2], "clstm: energy: "
                              "Grad-CAM at layer x puts under 2x")
        self.assertIn("WARNING: 3 target(s) missed", out)
        for warning in summary["warnings"]:
            self.assertIn(f"  - {warning}\n", out)
        # The reports' banners get the accuracy warnings (compare adds the
        # faithfulness ones itself).
        self.assertEqual({c[-1] for c in self.calls if c[0] == "compare"},
                         {2})

    def test_seed_sets_the_data_and_every_training(self):
        self.run_demo(seed=7)
        self.assertEqual([c[-1] for c in self.calls if c[0] in ("data",
                                                                "train")],
                         [dict(num_clips=[6, 4, 4], num_frames=8,
                               image_size=[32, 32], seed=7), 7, 7])
        self.run_demo(seed=8)
        self.assertEqual(self.stages_run(), list(demo.STAGES))

    def test_rerun_skips_and_lost_or_unfinished_work_is_redone(self):
        self.run_demo()
        state = os.path.join(self.workdir, demo.STATE)
        with open(state) as f:
            before = f.read()
        out = self.run_demo()[1]
        self.assertEqual(self.calls, [])
        self.assertEqual(out.count(": done before, skipped ("), 7)
        with open(state) as f:
            self.assertEqual(f.read(), before)
        shutil.rmtree(os.path.join(self.workdir, "clstm", "export"))
        self.run_demo()
        self.assertEqual(self.stages_run(), ["export"])
        values = json.loads(before)
        values["stages"]["export"].update(finished=False, parts=[])
        _write(state, values)
        out = self.run_demo()[1]
        self.assertEqual(self.stages_run(), ["export"])
        self.assertIn("[7/8] export: resumed (", out)

    def test_changed_options_redo_the_stages_that_read_them(self):
        self.run_demo()
        self.run_demo(clips=2)
        self.assertEqual(self.stages_run(),
                         ["explain", "faithfulness", "compare"])
        self.assertEqual({c[3] for c in self.calls if c[0] == "explain"}, {2})
        self.compare.max_gifs = 1
        self.run_demo(clips=2)
        self.assertEqual(self.stages_run(), ["compare"])
        self.configs["clstm"].train.epochs = 2
        self.run_demo(clips=2)
        self.assertEqual(self.stages_run(), list(demo.STAGES)[1:])
        self.run_demo(clips=2, synthetic_clips=(7, 4, 4))
        self.assertEqual(self.stages_run(), list(demo.STAGES))

    def test_an_interrupted_stage_resumes(self):
        self.fail = ("explain", "clstm", "freeze", 3, "test",
                     "test_freeze")
        with self.assertRaisesRegex(RuntimeError, "killed"):
            self.run_demo()
        self.fail = None
        out = self.run_demo()[1]
        self.assertIn("[4/8] explain: resumed (", out)
        self.assertEqual(self.stages_run(),
                         ["explain", "faithfulness", "compare", "export"])
        self.assertEqual({c[1] for c in self.calls if c[0] == "explain"},
                         {"clstm"})

    def test_fresh_starts_clean_and_other_directories_are_refused(self):
        self.run_demo()
        stale = os.path.join(self.workdir, "data", "stale")
        _write(stale, {})
        self.run_demo(fresh=True)
        self.assertEqual(self.stages_run(), list(demo.STAGES))
        self.assertFalse(os.path.exists(stale))
        other = os.path.join(self.get_temp_dir(), "other")
        _write(os.path.join(other, "notes.json"), {})
        for fresh in (False, True):
            with self.assertRaisesRegex(
                    errors.InputError, "other is not empty and has no "
                    "demo_state.json"):
                run_quietly(other, self.configs, self.compare, fresh=fresh)
        self.assertEqual(os.listdir(other), ["notes.json"])

    def test_each_frame_size_gets_its_own_dataset(self):
        clstm = self.configs["clstm"]
        clstm.input.image_size = 16
        configs = {**self.configs, "clstm": clstm}
        run_quietly(self.workdir, configs, self.compare, clips=3,
                    synthetic_clips="6,4,4")
        data = os.path.join(self.workdir, "data")
        made = [(c[2], c[3]["image_size"]) for c in self.calls
                if c[0] == "data"]
        self.assertEqual(made, [(os.path.join(data, "16x16"), [16, 16]),
                                (os.path.join(data, "32x32"), [32, 32])])
        trained = [c[1:3] for c in self.calls if c[0] == "train"]
        self.assertEqual(trained, [("i3d", os.path.join(data, "32x32")),
                                   ("clstm", os.path.join(data, "16x16"))])
        # A new frame size redoes the data (the old size's is deleted).
        clstm.input.image_size = 24
        run_quietly(self.workdir, configs, self.compare, clips=3,
                    synthetic_clips="6,4,4")
        self.assertEqual(sorted(os.listdir(data)), ["24x24", "32x32"])

    def test_bad_options(self):
        clstm = self.configs["clstm"]
        clstm.input.num_frames = 16
        for options, message in (
            (dict(clips=0), "clips must be >= 1, got 0"),
            (dict(synthetic_clips="8,8"), "got '8,8'"),
            (dict(synthetic_clips=(0, 8, 8)), r"got \(0, 8, 8\)"),
            (dict(configs={**self.configs, "clstm": clstm}),
             r"the configs. num_frames differ: \[8, 16\]"),
        ):
            options = {"configs": {"i3d": self.configs["i3d"]}, **options}
            with self.assertRaisesRegex(errors.InputError, message):
                run_quietly(self.workdir, compare_config=self.compare,
                            **options)
        self.assertFalse(os.path.exists(self.workdir))


if __name__ == "__main__":
    tf.test.main()
