"""Tests for tfvidinterp.jobs.sweep and its binary."""

import json
import os
import subprocess
import sys
from unittest import mock

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.jobs import sweep
from tfvidinterp.jobs import train


def _row(seed, stopped_at, accuracy, seconds=10.0):
    return {
        "seed": seed,
        "stopped_at": stopped_at,
        "final_step": 300,
        "accuracy": accuracy,
        "history": [],
        "seconds": seconds,
    }


class SummaryTest(tf.test.TestCase):
    def test_k_of_n_and_steps_to_target(self):
        rows = [
            _row(0, 150, 0.96, 20.0),
            _row(1, 0, 0.9, 40.0),
            _row(2, 100, 0.95, 30.0),
            _row(3, 125, 0.97, 10.0),
        ]
        summary = sweep.summarize(rows, 0.95, 300)
        self.assertEqual(
            {
                k: summary[k]
                for k in (
                    "seeds",
                    "reached",
                    "steps_to_target",
                    "median_steps",
                    "max_steps",
                    "missed",
                    "accuracy",
                    "seconds",
                )
            },
            {
                "seeds": 4,
                "reached": 3,
                "steps_to_target": [100, 125, 150],
                "median_steps": 125.0,
                "max_steps": 150,
                "missed": [1],
                "accuracy": [0.96, 0.9, 0.95, 0.97],
                "seconds": 25.0,
            },
        )
        text = sweep.summary_text(summary)
        self.assertIn(
            "3 of 4 seeds reached 0.95 validation accuracy within 300 steps.",
            text,
        )
        self.assertIn("Steps to target: 100, 125, 150 (median 125)", text)
        self.assertIn("Missed the target: seeds [1].", text)

    def test_held_out_accuracy(self):
        rows = [
            dict(_row(0, 75, 0.95), test_split="test", test_accuracy=0.94),
            dict(_row(1, 100, 0.97), test_split="test", test_accuracy=0.98),
            dict(_row(2, 125, 0.96), test_split="test", test_accuracy=0.96),
        ]
        summary = sweep.summarize(rows, 0.95, 300)
        self.assertEqual(summary["test_accuracy"], [0.94, 0.98, 0.96])
        self.assertIn(
            "test top-1 of the last checkpoint per seed: 0: 0.940, "
            "1: 0.980, 2: 0.960 (min 0.940, median 0.960)",
            sweep.summary_text(summary),
        )
        # Rows of a sweep run without a held-out split.
        summary = sweep.summarize([_row(0, 75, 0.95)], 0.95, 300)
        self.assertEqual(summary["test_accuracy"], [None])
        self.assertNotIn("top-1 of the last", sweep.summary_text(summary))

    def test_no_seed_reached(self):
        summary = sweep.summarize([_row(0, 0, 0.5)], 0.95, 300)
        self.assertEqual(
            (summary["reached"], summary["median_steps"], summary["max_steps"]),
            (0, None, None),
        )
        self.assertIn("Steps to target: none", sweep.summary_text(summary))


class SweepRunTest(testing.SyntheticDataTestCase):
    def config(self):
        config = testing.load_config("configs/clstm_synthetic.py", "smoke")
        config.input.data_dir = self.data_dir
        # Any accuracy stops the run at its first evaluation, step 2.
        config.train.target_accuracy = 1e-6
        return config

    @pytest.mark.slow
    def test_trains_each_seed_resumes_and_retrains_an_unfinished_one(self):
        workdir = self.get_temp_dir()
        summary = sweep.run(self.config(), workdir, [3, 4])
        self.assertEqual(
            (summary["seeds"], summary["reached"], summary["steps_to_target"]),
            (2, 2, [2, 2]),
        )
        self.assertEqual([r["seed"] for r in sweep.read_rows(workdir)], [3, 4])
        with open(os.path.join(workdir, sweep.SUMMARY)) as f:
            self.assertEqual(json.load(f)["reached"], 2)
        # Seed 5 was killed mid-training: its partial run is thrown away.
        os.makedirs(os.path.join(workdir, "seed_5", "ckpt"))
        with open(os.path.join(workdir, "seed_5", "ckpt", "junk"), "w"):
            pass
        with open(os.path.join(workdir, sweep.ROWS), "a") as f:
            f.write('{"seed": 5, "stopp')  # A line cut short by the kill.
        original = train.run
        with mock.patch.object(train, "run", side_effect=original) as runs:
            summary = sweep.run(self.config(), workdir, [3, 4, 5])
        self.assertEqual([c.args[0].seed for c in runs.call_args_list], [5])
        self.assertEqual(summary["seeds"], 3)
        self.assertFalse(
            os.path.exists(os.path.join(workdir, "seed_5", "ckpt", "junk"))
        )

    def test_bad_input(self):
        config = self.config()
        for seeds, message in (
            ([], "distinct and non-empty"),
            ([1, 1], "distinct and non-empty"),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                sweep.run(config, self.get_temp_dir(), seeds)
        with mock.patch.object(train, "run") as runs:
            with self.assertRaisesRegex(
                errors.InputError, "split 'test' of dataset .* is missing"
            ):
                sweep.run(config, self.get_temp_dir(), [0], test_split="test")
        runs.assert_not_called()
        config.train.target_accuracy = 0.0
        with self.assertRaisesRegex(errors.InputError, "set it > 0"):
            sweep.run(config, self.get_temp_dir(), [0])

    @pytest.mark.slow
    def test_binary(self):
        workdir = os.path.join(self.get_temp_dir(), "sweep")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.sweep",
                "--config=configs/clstm_synthetic.py:smoke",
                f"--config.input.data_dir={self.data_dir}",
                "--config.train.target_accuracy=0.000001",
                f"--workdir={workdir}",
                "--num_seeds=2",
                "--first_seed=10",
                "--test_split=validation",
            ],
            cwd=testing.REPO,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn(
            "2 of 2 seeds reached 1e-06 validation accuracy within 2 steps.",
            result.stdout,
        )
        self.assertIn("Final validation accuracy per seed: 10: ", result.stdout)
        self.assertIn(
            "validation top-1 of the last checkpoint per seed: 10: ",
            result.stdout,
        )
        with open(os.path.join(workdir, sweep.SUMMARY)) as f:
            rows = json.load(f)["rows"]
        for row in rows:
            # The held-out figure is the evaluate job's, on the stop's
            # checkpoint (step 2).
            with open(
                os.path.join(
                    workdir, f"seed_{row['seed']}", "eval", "validation.json"
                )
            ) as f:
                evaluated = json.load(f)
            self.assertEqual(evaluated["step"], 2)
            self.assertEqual(
                (row["test_accuracy"], row["test_reversed"]),
                (evaluated["forward"]["top1"], evaluated["reversed"]["top1"]),
            )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.sweep",
                "--config=configs/clstm_synthetic.py:smoke",
                f"--workdir={workdir}",
                "--num_seeds=0",
            ],
            cwd=testing.REPO,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("sweep.py: error: ", result.stderr)


if __name__ == "__main__":
    tf.test.main()
