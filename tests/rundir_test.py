"""Tests for tfvidinterp.jobs.rundir: what a run records about itself."""

import json
import os

import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.jobs import rundir

CONFIG = {
    "seed": 0,
    "model_name": "clstm",
    "model": {"num_layers": 2, "filters": 4},
    "input": {"data_dir": "/data", "num_frames": 8, "image_size": (24, 32)},
    "train": {"lr": 0.001},
}
INFO = {"source": "synthetic", "classes": ["a", "b", "c"]}


def _with(**changes):
    """CONFIG with `{"section.key": value}` changes (`None`: removed)."""
    config = json.loads(json.dumps(CONFIG))
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        section = config
        for name in path:
            section = section[name]
        if value is None:
            del section[key]
        else:
            section[key] = value
    return config


class RunDirTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.workdir = os.path.join(self.get_temp_dir(), "run")

    def read(self, name):
        with open(rundir.path(self.workdir, name)) as f:
            return json.load(f)

    def test_records_are_written_once(self):
        self.assertIsNone(rundir.read_config(self.workdir))
        self.assertIsNone(rundir.read_classes(self.workdir))
        rundir.record(self.workdir, CONFIG, INFO)
        self.assertEqual(
            self.read(rundir.CONFIG)["input"]["image_size"], [24, 32]
        )
        self.assertEqual(
            self.read(rundir.RUN),
            {
                "classes": ["a", "b", "c"],
                "dataset": "synthetic",
                "model": {
                    "name": "clstm",
                    "kwargs": {"num_layers": 2, "filters": 4},
                    "input_shape": [8, 24, 32, 3],
                    "num_classes": 3,
                },
            },
        )
        # A resume may change how it trains, not what it trains.
        rundir.record(self.workdir, _with(train__lr=0.1, seed=3), INFO)
        self.assertEqual(rundir.read_config(self.workdir)["train"]["lr"], 0.001)

    def test_a_resume_of_another_model_or_data_is_refused(self):
        rundir.record(self.workdir, CONFIG, INFO)
        with self.assertRaisesRegex(
            errors.InputError,
            r"holds a run of another config: "
            r"input\.image_size \(run: \[24, 32\], given: 32\), "
            r"model\.num_layers \(run: 2, given: 1\); resume it with the "
            r"run's values \(config\.json\) or choose another workdir$",
        ):
            rundir.record(
                self.workdir,
                _with(model__num_layers=1, input__image_size=32),
                INFO,
            )
        with self.assertRaisesRegex(errors.InputError, "model_name"):
            rundir.record(self.workdir, _with(model_name="i3d"), INFO)
        with self.assertRaisesRegex(
            errors.InputError,
            r"was trained on 3 classes, the dataset has 3 \(1: 'b' -> 'x'\)",
        ):
            rundir.record(
                self.workdir, CONFIG, dict(INFO, classes=["a", "x", "c"])
            )
        # A key only one side has (another version's field) is not compared.
        rundir.record(self.workdir, _with(model__filters=None), INFO)
        self.assertEqual(
            self.read(rundir.CONFIG), json.loads(json.dumps(CONFIG))
        )

    def test_later_jobs_compare_the_model_only(self):
        rundir.record(self.workdir, CONFIG, INFO)
        recorded = rundir.read_config(self.workdir)
        rundir.check_model_config(
            self.workdir, recorded, _with(input__data_dir="/elsewhere")
        )
        with self.assertRaisesRegex(
            errors.InputError,
            r"model_name \(run: 'clstm', given: 'i3d'\); leave out --config "
            r"to use the run's own \(config\.json\), or give one of the same "
            "model$",
        ):
            rundir.check_model_config(
                self.workdir, recorded, _with(model_name="i3d")
            )

    def test_runs_of_older_versions_are_read_without_checks(self):
        os.makedirs(self.workdir)
        with open(rundir.path(self.workdir, rundir.CONFIG), "w") as f:
            json.dump(CONFIG, f)
        # No run.json: recorded at the next start, model included.
        self.assertIsNone(rundir.read_run(self.workdir))
        rundir.record(self.workdir, CONFIG, INFO)
        self.assertEqual(rundir.read_classes(self.workdir), INFO["classes"])
        self.assertEqual(
            rundir.read_run(self.workdir)["model"]["input_shape"],
            [8, 24, 32, 3],
        )
        with open(rundir.path(self.workdir, rundir.RUN), "w") as f:
            f.write("{")
        with self.assertRaisesRegex(
            errors.InputError, "cannot read .*run.json"
        ):
            rundir.read_classes(self.workdir)


if __name__ == "__main__":
    tf.test.main()
