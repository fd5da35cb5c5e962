"""Any Keras video classifier in every job: import-path model names, runs
that record what they are, and `.keras` files with their class names."""

import copy
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp import models
from tfvidinterp.interp import sanity
from tfvidinterp.jobs import compare
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import export
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import resultsdir
from tfvidinterp.jobs import rundir

OWN = "tests.testing:tiny_classifier"


def run_binary(name, *flags):
    """`binaries.<name>` with `flags`, run to its end in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", f"binaries.{name}", *flags],
        cwd=testing.REPO,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        capture_output=True,
        text=True,
        timeout=300,
    )


@keras.saving.register_keras_serializable(package="tests")
class _Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pool = keras.layers.GlobalAveragePooling3D()
        self.logits = keras.layers.Dense(6)

    def call(self, videos):
        return self.logits(self.pool(videos))


class ImportPathTest(tf.test.TestCase):
    def test_builds_a_model_of_ones_own(self):
        model = models.build(OWN, num_classes=5, num_frames=4, image_size=16)
        self.assertEqual(model(testing.tiny_videos(1, 4, 16)).shape, (1, 5))

    def test_errors(self):
        for name, message in (
            ("no_such_pkg.models:build", "^cannot import module 'no_such_pkg"),
            ("tests.testing:nothing", "^module 'tests.testing' has no 'noth"),
            ("tests.testing:REPO", "^'REPO' of module 'tests.testing' is a "),
            ("builtins:dict", "returned a dict, not a keras.Model$"),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                models.build(name, num_classes=3)


class OwnModelRunTest(testing.TrainedRunTestCase):
    """A run of an import-path model, read back after its dataset moved."""

    @classmethod
    def configure(cls, config):
        config.model_name = OWN
        config.model = dict(filters=4)
        config.interp.layer = "features"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Neither config.json's data_dir nor its dataset_info.json is there.
        cls.moved = os.path.join(cls.root, "moved")
        os.rename(cls.data_dir, cls.moved)

    def test_run_json_records_the_model(self):
        record = rundir.read_run(self.workdir)
        self.assertEqual(
            record["model"],
            {
                "name": OWN,
                "kwargs": {"filters": 4},
                "input_shape": [8, 32, 32, 3],
                "num_classes": 6,
            },
        )
        self.assertLen(record["classes"], 6)

    def test_evaluate_explain_export_without_config_or_dataset(self):
        result = evaluate.run(None, self.workdir, data_dir=self.moved)
        self.assertEqual(result["forward"]["num_clips"], 16)
        self.assertEqual(result["step"], 2)
        video = os.path.join(self.root, "videos", "a.mp4")
        testing.write_video(video, 12, height=40, width=48)
        out = os.path.join(self.root, "video_results")
        summary = explain.run(None, self.workdir, video=video, output_dir=out)
        self.assertEqual(summary["clips"], 1)
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta["classes"], rundir.read_classes(self.workdir))
        self.assertEqual(
            (meta["model_name"], meta["dataset"], meta["step"]),
            (OWN, "synthetic", 2),
        )
        paths = export.run(None, self.workdir)
        # The loaded object must outlive the call: it owns the variables.
        loaded = tf.saved_model.load(paths["explainer"])
        served = loaded.explain_uint8(np.zeros((1, 5, 32, 32, 3), np.uint8))
        self.assertEqual(served["heatmaps"].shape, (1, 8, 32, 32))
        self.assertEqual(served["probabilities"].shape, (1, 6))
        with self.assertRaisesRegex(
            errors.InputError, "^No such dataset directory: .*/data$"
        ):
            evaluate.run(None, self.workdir)

    @pytest.mark.slow
    def test_faithfulness_rebuilds_the_model_by_its_import_path(self):
        config = copy.deepcopy(self.config)
        config.input.data_dir = self.moved
        out = os.path.join(self.root, "faithful")
        explain.run(config, self.workdir, max_clips=4, output_dir=out)
        result = faithfulness.run(
            config, self.workdir, out, random_orders=1, spatial_clips=4
        )
        self.assertEqual((result["model_name"], result["clips"]), (OWN, 4))
        self.assertEqual(result["layer"], "features")
        # The randomised copy of the model was built from OWN.
        self.assertEqual(
            result["sanity"]["clips"] + result["sanity"]["constant_maps"], 4
        )

    def test_a_run_without_run_json_takes_the_datasets_classes(self):
        old = os.path.join(self.root, "old")
        shutil.copytree(self.workdir, old)
        os.remove(rundir.path(old, rundir.RUN))
        result = evaluate.run(None, old, data_dir=self.moved)
        self.assertLen(result["forward"]["f1"], 6)
        with self.assertRaisesRegex(
            errors.InputError, "^No such dataset directory: .*/data$"
        ):
            evaluate.run(None, old)


class ModelFileTest(testing.SyntheticDataTestCase):
    """A .keras file whose input (4 frames of 24x20) is not the dataset's
    (8 of 32x32): the pipeline samples and crops to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = os.path.join(cls.data_dir, "files")
        os.makedirs(cls.root)
        with open(os.path.join(cls.data_dir, "dataset_info.json")) as f:
            cls.classes = json.load(f)["classes"]
        keras.utils.set_random_seed(0)
        cls.model = testing.tiny_classifier(6, 4, (24, 20))
        cls.path = cls.save(cls.model, "mine", cls.classes)
        cls.config = testing.load_config("configs/keras_model.py", "smoke")
        cls.config.interp.layer = "features"

    @classmethod
    def save(cls, model, name, classes):
        path = os.path.join(cls.root, f"{name}.keras")
        model.save(path)
        if classes is not None:
            with open(modelfile.classes_path(path), "w") as f:
                f.write("\n".join(classes) + "\n")
        return path

    def test_the_models_input_decides_the_clips(self):
        loaded = modelfile.load(self.config, model=self.path)
        self.assertEqual(loaded.config.input.num_frames, 4)
        self.assertEqual(tuple(loaded.config.input.image_size), (24, 20))
        self.assertEqual(loaded.config.model_name, "mine.keras")
        self.assertEqual((loaded.classes, loaded.step), (self.classes, None))
        open_input = testing.tiny_classifier(6)
        config = modelfile.file_config(self.config, open_input, "x.keras")
        self.assertEqual(config.input.num_frames, 8)  # The smoke config's.
        self.assertEqual(tuple(config.input.image_size), (32, 32))

    def test_evaluate_explain_compare_export(self):
        out = os.path.join(self.root, "out")
        result = evaluate.run(
            self.config,
            model=self.path,
            data_dir=self.data_dir,
            output_dir=out,
        )
        self.assertEqual(result["step"], None)
        self.assertEqual(np.sum(result["forward"]["confusion_matrix"]), 16)
        eval_file = os.path.join(out, "eval", "validation.json")
        self.assertEqual(evaluate.load_eval(eval_file), result)
        results = os.path.join(out, "explain")
        summary = explain.run(
            self.config,
            model=self.path,
            data_dir=self.data_dir,
            max_clips=2,
            output_dir=results,
        )
        self.assertEqual(summary["clips"], 2)
        report = os.path.join(out, "report")
        stats = compare.run(
            [results],
            report,
            testing.load_config("configs/compare.py", "smoke"),
            [eval_file],
        )
        self.assertEqual(stats["models"][0]["label"], "mine.keras (Synthetic)")
        self.assertEqual(stats["models"][0]["num_clips"], 2)
        self.assertTrue(os.path.isfile(os.path.join(report, "report.html")))
        paths = export.run(
            self.config, model=self.path, output_dir=os.path.join(out, "sm")
        )
        frames = testing.tiny_videos(1, 7, (24, 20))
        loaded = tf.saved_model.load(paths["classifier"])
        served = loaded.serve(frames)
        sampled = frames[:, [0, 2, 4, 6]]  # Uniform: 4 of 7 frames.
        self.assertAllClose(served["logits"], self.model(sampled), atol=1e-5)

    def test_faithfulness_checks_the_model_files_explanations(self):
        results = os.path.join(self.root, "faithful")
        explain.run(
            self.config,
            model=self.path,
            data_dir=self.data_dir,
            max_clips=3,
            output_dir=results,
        )
        result = faithfulness.run(
            self.config,
            model=self.path,
            data_dir=self.data_dir,
            results_dir=results,
            random_orders=1,
            spatial_clips=3,
            seed=4,
        )
        self.assertEqual(
            (result["run"], result["model_name"], result["explained_clips"]),
            ("mine.keras", "mine.keras", 3),
        )
        self.assertEqual(result["layer"], "features")
        # The random model: the file's architecture, cloned with fresh
        # weights after set_random_seed(seed + 1).
        keras.utils.set_random_seed(5)
        random_model = keras.models.clone_model(self.model)
        self.assertNotAllClose(
            random_model.get_layer("features").get_weights()[0],
            self.model.get_layer("features").get_weights()[0],
        )
        records = testing.read_records(results)
        maps = [resultsdir.read_gradcam(results, r) for r in records]
        expected = sanity.sanity_correlations(
            np.stack([m["heatmaps"] for m in maps]),
            random_model,
            np.stack([m["frames"] for m in maps]).astype(np.float32),
            [r["target_class"] for r in records],
            layer="features",
        )
        finite = expected[np.isfinite(expected)]
        self.assertEqual(
            (result["sanity"]["clips"], result["sanity"]["constant_maps"]),
            (len(finite), 3 - len(finite)),
        )
        self.assertAllClose(
            result["sanity"]["spearman"], np.mean(finite), atol=1e-4
        )
        with self.assertRaisesRegex(
            errors.InputError,
            "^give --results_dir: where explain wrote the results of --model$",
        ):
            faithfulness.run(self.config, model=self.path)
        with self.assertRaisesRegex(
            errors.InputError, "^--model needs a --config of the options"
        ):
            faithfulness.run(None, model=self.path, results_dir=results)

    def test_errors(self):
        rgb_images = keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Dense(6)]
        )
        subclassed = _Subclassed()
        subclassed(testing.tiny_videos(1, 4, 8))
        for path, message in (
            (
                self.save(self.model, "unnamed", None),
                "^cannot read the class names .*/unnamed.classes.txt: No such "
                "file or directory; write them there, one a line in label "
                "order$",
            ),
            (
                self.save(self.model, "five", self.classes[:5]),
                r"five.keras outputs \(None, 6\), not one logit for each of "
                r"the 5 classes in .*/five.classes.txt$",
            ),
            (
                self.save(self.model, "twice", ["a", "b", "a"]),
                r"twice.classes.txt names a twice; give each class once",
            ),
            (
                self.save(rgb_images, "images", self.classes),
                r"images.keras is not a video classifier: its input "
                r"\(None, 32, 32, 3\) is not \(batch, frames, height, width, "
                r"3\)$",
            ),
            (self.path + ".h5", "^no Keras model file .*; give a .keras file"),
            (
                self.save(subclassed, "subclassed", self.classes),
                "subclassed.keras holds a model without a symbolic input",
            ),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                modelfile.load(self.config, model=path)
        other = self.save(self.model, "other", [f"c{i}" for i in range(6)])
        for call, message in (
            (
                lambda: modelfile.load(None, model=self.path),
                "^--model needs a --config of the options to use",
            ),
            (
                lambda: modelfile.load(self.config, "run", model=self.path),
                r"^give --workdir \(a training run\) or --model \(a Keras "
                r"model file\), not both$",
            ),
            (
                lambda: evaluate.run(self.config, model=self.path),
                "^give --output_dir: where the results of --model go$",
            ),
            (
                lambda: evaluate.run(
                    self.config,
                    model=other,
                    data_dir=self.data_dir,
                    output_dir=self.root,
                ),
                r"other.keras was trained on 6 classes, dataset .* has 6 "
                r"\(0: 'c0' -> 'left_to_right', .*\); use the dataset the "
                "model was trained on$",
            ),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                call()

    @pytest.mark.slow
    def test_binary_evaluates_a_model_file_and_fails_in_one_line(self):
        flags = [
            "--config=configs/keras_model.py:smoke",
            f"--data_dir={self.data_dir}",
            f"--output_dir={self.root}/binary",
        ]
        done = run_binary("evaluate", f"--model={self.path}", *flags)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        self.assertIn('"split": "validation"', done.stdout)
        shutil.copy(self.path, os.path.join(self.root, "lone.keras"))
        failed = run_binary(
            "evaluate", f"--model={self.root}/lone.keras", *flags
        )
        self.assertEqual(failed.returncode, 2)
        self.assertEqual(
            testing.error_lines(failed.stderr, "evaluate"),
            [
                "evaluate.py: error: cannot read the class names "
                f"{self.root}/lone.classes.txt: No such file or directory; "
                "write them there, one a line in label order"
            ],
        )

    @pytest.mark.slow
    def test_faithfulness_binary_refuses_a_model_file_in_one_line(self):
        shutil.copy(self.path, os.path.join(self.root, "alone.keras"))
        for flags, message in (
            (
                [f"--model={self.root}/alone.keras", "--results_dir=x"],
                "cannot read the class names "
                f"{self.root}/alone.classes.txt: No such file or directory; "
                "write them there, one a line in label order",
            ),
            (
                [f"--model={self.path}"],
                "give --results_dir: where explain wrote the results of "
                "--model",
            ),
        ):
            done = run_binary(
                "faithfulness", "--config=configs/keras_model.py:smoke", *flags
            )
            self.assertEqual(done.returncode, 2, done.stderr[-2000:])
            self.assertEqual(
                testing.error_lines(done.stderr, "faithfulness"),
                [f"faithfulness.py: error: {message}"],
            )


if __name__ == "__main__":
    tf.test.main()
