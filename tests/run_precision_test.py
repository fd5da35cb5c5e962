"""The jobs that read a run build its model in the precision it trained in."""

import json
import os
import subprocess
import sys
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp import precision
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import export
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import train
from tfvidinterp.jobs import train_model


def compute_dtypes(model):
    """The compute dtypes of `model`'s layers that have weights."""
    return {layer.compute_dtype for layer in model.layers if layer.weights}


def bfloat16_ops(function):
    """The op types of `function`'s graph and its library that take a
    bfloat16 type attribute."""
    graph = function.graph.as_graph_def()
    nodes = list(graph.node)
    for library_function in graph.library.function:
        nodes.extend(library_function.node_def)
    return {
        node.op
        for node in nodes
        if any(
            value.type == tf.bfloat16.as_datatype_enum
            for value in node.attr.values()
        )
    }


class Bfloat16RunTest(testing.TrainedRunTestCase):
    @classmethod
    def configure(cls, config):
        config.train.mixed_precision = "mixed_bfloat16"
        config.model.num_layers = 1  # One ConvLSTM layer: fewer traces.
        config.interp.batch_size = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Training restores the policy it found: the jobs under test start
        # from float32, as in a process of their own.
        cls.policy_after_training = keras.mixed_precision.global_policy().name
        cls.videos = testing.tiny_videos(2, 8, 32, seed=3)

    def test_training_computed_in_bfloat16_and_restored_float32(self):
        self.assertEqual(self.policy_after_training, "float32")
        saved = keras.saving.load_model(
            os.path.join(self.workdir, "model.keras")
        )
        # bfloat16 layers; the head computes the logits in float32.
        self.assertEqual(compute_dtypes(saved), {"bfloat16", "float32"})

    def tearDown(self):
        # Every job leaves Keras's global policy as it found it.
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")
        super().tearDown()

    def test_of_run(self):
        self.assertEqual(precision.of_run(""), "float32")
        self.assertEqual(precision.of_run("mixed_bfloat16"), "mixed_bfloat16")
        self.assertEqual(
            precision.of_run("mixed_bfloat16", "float32"), "float32"
        )
        self.assertIn(precision.of_run("auto"), ("float32", "mixed_bfloat16"))
        with self.assertRaisesRegex(
            errors.InputError,
            "^unknown precision 'bf16'; known: run, float32, mixed_bfloat16, "
            "mixed_float16$",
        ):
            precision.of_run("", "bf16")

    def test_scope_restores_the_policy_after_an_error(self):
        with self.assertRaises(ValueError):
            with precision.scope("mixed_bfloat16"):
                self.assertEqual(
                    keras.mixed_precision.global_policy().name,
                    "mixed_bfloat16",
                )
                raise ValueError

    def test_explainer_computes_in_bfloat16_and_outputs_float32(self):
        _, explainer = explain.load(None, self.workdir)
        self.assertEqual(explainer.precision, "mixed_bfloat16")
        # The ConvLSTM computes in bfloat16, the logits layer in float32.
        self.assertEqual(
            compute_dtypes(explainer.model), {"bfloat16", "float32"}
        )
        self.assertEqual(
            explainer.model.get_layer("Logits").compute_dtype, "float32"
        )
        maps = explainer.cam.explain(self.videos)
        masks = explainer.masker(self.videos, maps["class_ids"].numpy())
        for key in ("heatmaps", "logits", "scores"):
            self.assertEqual(maps[key].dtype, "float32", key)
            self.assertTrue(np.all(np.isfinite(maps[key].numpy())), key)
        floats = ("mask", "initial_mask", "loss_curve", "freeze_score")
        for key in floats + ("original_score", "reverse_score"):
            self.assertEqual(masks[key].dtype, np.float32, key)
            self.assertTrue(np.all(np.isfinite(masks[key])), key)

    def test_explain_records_the_precision_and_float32_can_be_asked(self):
        out = {}
        for choice in ("run", "float32"):
            directory = os.path.join(self.get_temp_dir(), choice)
            explain.run(
                None,
                self.workdir,
                max_clips=2,
                output_dir=directory,
                precision=choice,
            )
            with open(os.path.join(directory, "meta.json")) as f:
                self.assertEqual(
                    json.load(f)["precision"],
                    {"run": "mixed_bfloat16", "float32": "float32"}[choice],
                )
            out[choice] = testing.read_records(directory)
        for bf16, f32 in zip(out["run"], out["float32"]):
            self.assertEqual(bf16["id"], f32["id"])
            for record in (bf16, f32):
                self.assertTrue(np.all(np.isfinite(record["mask"]["mask"])))
            # Same weights: scores a bfloat16 rounding apart.
            self.assertAllClose(
                bf16["original_score"], f32["original_score"], atol=0.02
            )
        # Resuming in another precision would mix two models' results.
        with self.assertRaisesRegex(
            errors.InputError, "holds results made with another precision"
        ):
            explain.run(
                None,
                self.workdir,
                max_clips=3,
                output_dir=os.path.join(self.get_temp_dir(), "float32"),
            )

    def test_evaluate_writes_float32_logits(self):
        seen = []
        predict = evaluate.predict

        def spy(model, dataset):
            seen.append(compute_dtypes(model))
            outputs = predict(model, dataset)
            self.assertEqual(outputs[0].dtype, np.float32)
            return outputs

        out = self.get_temp_dir()
        with mock.patch.object(evaluate, "predict", spy):
            result = evaluate.run(None, self.workdir, output_dir=out)
            evaluate.run(
                None, self.workdir, output_dir=out, precision="float32"
            )
        self.assertEqual(seen, [{"bfloat16", "float32"}, {"float32"}])
        self.assertBetween(result["forward"]["top1"], 0.0, 1.0)

    def test_export_serves_the_bfloat16_model(self):
        out = self.get_temp_dir()
        ops = {}
        for policy in ("run", "float32"):
            paths = export.run(
                None,
                self.workdir,
                output_dir=f"{out}/{policy}",
                precision=policy,
            )
            # Held: the loaded object owns the variables `serve` reads.
            loaded = tf.saved_model.load(paths["classifier"])
            probabilities = loaded.serve(self.videos)["probabilities"].numpy()
            self.assertEqual(probabilities.dtype, np.float32)
            self.assertAllClose(probabilities.sum(-1), [1.0, 1.0], atol=1e-5)
            model = train_model.restore(None, self.workdir, policy).model
            expected = tf.nn.softmax(tf.cast(model(self.videos), tf.float32))
            # bf16's rounding differs between the traced and eager orders.
            self.assertAllClose(probabilities, expected, atol=2e-3)
            ops[policy] = bfloat16_ops(loaded.signatures["serving_default"])
        self.assertIn("Conv2D", ops["run"])
        self.assertEqual(ops["float32"], set())

    def test_faithfulness_randomises_a_model_of_the_same_precision(self):
        directory = os.path.join(self.get_temp_dir(), "results")
        explain.run(None, self.workdir, max_clips=2, output_dir=directory)
        built = []
        build = train.build_model

        def spy(config, num_classes):
            model = build(config, num_classes)
            built.append(compute_dtypes(model))
            return model

        with mock.patch.object(train, "build_model", spy):
            result = faithfulness.run(
                None,
                self.workdir,
                directory,
                random_orders=1,
                spatial_clips=2,
            )
        # The randomised copy of the run's model.
        self.assertEqual(built, [{"bfloat16", "float32"}])
        self.assertTrue(np.isfinite(result["deletion"]["learned"]))

    def test_a_model_file_takes_only_its_own_precision(self):
        path = os.path.join(self.get_temp_dir(), "m.keras")
        with open(modelfile.classes_path(path), "w") as f:
            f.write("a\nb\n")
        keras.Sequential(
            [keras.Input((8, 32, 32, 3)), keras.layers.Flatten()]
        ).save(path)
        with self.assertRaisesRegex(
            errors.InputError,
            r"^--precision=float32 applies to a training run \(--workdir\); "
            "a model file computes in the dtypes it was saved with$",
        ):
            modelfile.load(self.config, model=path, precision="float32")

    @pytest.mark.slow
    def test_binary_flag(self):
        directory = os.path.join(self.get_temp_dir(), "binary")
        command = [
            sys.executable,
            "-m",
            "binaries.explain",
            f"--workdir={self.workdir}",
            "--max_clips=1",
            f"--output_dir={directory}",
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        bad = subprocess.run(
            command + ["--precision=bf16"], capture_output=True, text=True
        )
        self.assertEqual(bad.returncode, 2)
        self.assertLen(testing.error_lines(bad.stderr, "explain"), 1)
        self.assertIn("--precision", bad.stderr)
        subprocess.run(
            command + ["--precision=float32"], check=True, env=env, timeout=300
        )
        with open(os.path.join(directory, "meta.json")) as f:
            self.assertEqual(json.load(f)["precision"], "float32")


class Float32RunTest(testing.TrainedRunTestCase):
    @classmethod
    def configure(cls, config):
        config.model.num_layers = 1
        config.interp.batch_size = 2

    def test_explain_builds_the_model_as_before(self):
        # Before: the model built under the global policy (float32).
        model = train.build_model(self.config, 6)
        restored = train.restore(None, self.workdir)
        model.set_weights(restored.model.get_weights())
        self.assertEqual(restored.precision, "float32")
        self.assertEqual(
            [layer.dtype_policy.name for layer in model.layers],
            [layer.dtype_policy.name for layer in restored.model.layers],
        )
        # The same layers, weights and dtypes compute the same logits.
        videos = testing.tiny_videos(2, 8, 32, seed=4)
        self.assertAllEqual(model(videos), restored.model(videos))
        before = explain.Explainer(
            model, self.config.interp, restored.step, classes=restored.classes
        )
        out = {}
        for name, explainer in (("before", before), ("now", None)):
            directory = os.path.join(self.get_temp_dir(), name)
            explain.run(
                None,
                self.workdir,
                max_clips=2,
                output_dir=directory,
                explainer=explainer,
            )
            out[name] = testing.read_records(directory)
        for a, b in zip(out["before"], out["now"]):
            # Two traces of one graph: masks up to 4e-5 apart without op
            # determinism (docs/experiments/2026-12-03-bf16.md).
            self.assertAllClose(a["mask"]["mask"], b["mask"]["mask"], atol=1e-4)
            self.assertEqual(a["mask"]["binary_mask"], b["mask"]["binary_mask"])
