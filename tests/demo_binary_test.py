"""Tests for binaries/demo.py: its `--smoke` demo, run for real."""

import os
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp.jobs import compare
from tfvidinterp.jobs import demo
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import resultsdir

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


@pytest.mark.slow
class DemoSmokeTest(tf.test.TestCase):
    """The binary's `--smoke` demo, run once for the class, for real."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.workdir = os.path.join(cls.root, "demo")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.demo",
                "--smoke",
                "--clips=4",
                f"--workdir={cls.workdir}",
            ],
            cwd=testing.REPO,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        cls.out = result.stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)
        super().tearDownClass()

    def path(self, *names):
        return os.path.join(self.workdir, *names)

    def rerun(self):
        configs, compare_config = testing.demo_configs()
        return testing.run_demo_quietly(
            self.workdir,
            configs,
            compare_config,
            clips=4,
            synthetic_clips=demo.SMOKE_SYNTHETIC_CLIPS,
        )[1]

    def test_outputs_and_summary(self):
        with open(self.path("report", "report.html")) as f:
            page = f.read()
        for text in ("I3D (Synthetic)", "C-LSTM (Synthetic)", "Faithfulness"):
            self.assertIn(text, page)
        for model in ("i3d", "clstm"):
            result = evaluate.load_eval(self.path(model, "eval", "test.json"))
            self.assertBetween(result["reversed"]["top1"], 0.0, 1.0)
            self.assertIn(
                f"  {model}: {result['forward']['top1']:.3f} / "
                f"{result['reversed']['top1']:.3f}\n",
                self.out,
            )
            for perturbation in ("freeze", "reverse"):
                loaded = resultsdir.load_results(
                    self.path(model, "explain", f"test_{perturbation}")
                )
                self.assertLen(loaded["records"], 4)
                self.assertEqual(
                    {r["mask"]["perturbation"] for r in loaded["records"]},
                    {perturbation},
                )
            frames = np.zeros((1, 8, 32, 32, 3), np.float32)
            paths = [
                self.path(model, "export", kind)
                for kind in ("classifier", "explainer")
            ]
            for path in paths:
                self.assertIn(path, self.out)
            # Held in names: a loaded object freed during its call fails.
            classifier, explainer = map(tf.saved_model.load, paths)
            out = classifier.serve(frames)
            self.assertAllClose(tf.reduce_sum(out["probabilities"]), 1.0)
            self.assertEqual(
                explainer.explain(frames)["heatmaps"].shape, (1, 8, 32, 32)
            )
        self.assertTrue(
            os.path.exists(self.path("report_reverse", "report.html"))
        )
        self.assertIn(
            f"file://{self.path('report', 'report.html')}\n", self.out
        )
        self.assertIn("| Measure | Target |", self.out)
        self.assertRegex(self.out, r"Total: [\d.]+ s over every run")

    def test_rerun_skips_and_an_interrupted_compare_resumes(self):
        with open(self.path(demo.STATE)) as f:
            state = f.read()
        self.assertEqual(self.rerun().count(": done before, skipped ("), 7)
        with open(self.path(demo.STATE)) as f:
            self.assertEqual(f.read(), state)
        original, calls = compare.run, []

        def interrupted(results_dirs, output_dir, config, eval_files, warnings):
            calls.append(os.path.basename(output_dir))
            if calls == ["report", "report_reverse"]:
                raise RuntimeError("killed")
            return original(
                results_dirs, output_dir, config, eval_files, warnings
            )

        shutil.rmtree(self.path("report_reverse"))
        with mock.patch.object(compare, "run", interrupted):
            with self.assertRaisesRegex(RuntimeError, "killed"):
                self.rerun()
            out = self.rerun()
        self.assertEqual(calls, ["report", "report_reverse", "report_reverse"])
        self.assertIn("[6/8] compare: resumed (", out)
        self.assertEqual(out.count(": done before, skipped ("), 6)
        self.assertTrue(
            os.path.exists(self.path("report_reverse", "report.html"))
        )

    def test_binary_refuses_other_directories_and_bad_flags(self):
        other = os.path.join(self.root, "other")
        os.makedirs(other)
        open(os.path.join(other, "notes.txt"), "w").close()
        for flag, message in (
            (
                f"--workdir={other}",
                f"{other} is not empty and has no "
                "demo_state.json: not this job's directory",
            ),
            ("--clips=0", "flag --clips=0: "),
        ):
            result = subprocess.run(
                [sys.executable, "-m", "binaries.demo", flag],
                cwd=testing.REPO,
                env=ENV,
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
            self.assertLen(lines, 1)
            self.assertStartsWith(lines[0], f"demo.py: error: {message}")
            self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    tf.test.main()
