"""Tests for tfvidinterp.benchmark and binaries/benchmark.py."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp.benchmark import convlstm
from tfvidinterp.benchmark import gradcam
from tfvidinterp.benchmark import inputs
from tfvidinterp.benchmark import masks
from tfvidinterp.benchmark import passes
from tfvidinterp.benchmark import report
from tfvidinterp.benchmark import timing
from tfvidinterp.benchmark import training
from tfvidinterp.interp import temporal_mask


def _config():
    config = testing.load_config("configs/benchmark.py", "smoke")
    config.masks.batch_sizes = (2,)  # One explainer trace, not two.
    return config


class MeasurementsTest(tf.test.TestCase, parameterized.TestCase):
    """Each measurement on the smoke config's tiny C-LSTM, sharing traces."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bench = passes.Workbench(_config())

    def assertRow(self, row, measured, baseline, target):
        self.assertGreater(row["measured"], 0.0)
        self.assertGreater(row["baseline"], 0.0)
        self.assertAllClose(row["measured"], measured)
        self.assertAllClose(row["baseline"], baseline)
        self.assertAllClose(row["ratio"], measured / baseline)
        self.assertEqual(row["target"], target)
        if target is not None:
            self.assertEqual(row["met"], measured / baseline >= target)

    def test_masks_against_bound_and_eager_reference(self):
        out = masks.measure(self.bench, "clstm")
        details = out["details"]
        (size,) = details["batch_sizes"]
        timed = details["batch_sizes"][size]
        self.assertEqual(details["best_batch_size"], size)
        self.assertGreater(details["trace_seconds"][size], 0.0)
        step = details["reference"]["step_seconds"]
        self.assertAllClose(details["reference"]["clip_seconds"], 3 * step)
        bound, eager = out["rows"]
        self.assertRow(bound, size / timed["seconds"],
                       size / (3 * timed["bound_step_seconds"]), 0.8)
        self.assertRow(eager, size / timed["seconds"], 1.0 / (3 * step), 10.0)

    def test_eager_reference_reaches_the_explainers_mask(self):
        model = testing.tiny_model("clstm", frames=8, size=32, num_layers=2)
        videos = testing.tiny_videos(batch=1, frames=8, size=32)
        explainer = temporal_mask.TemporalMaskExplainer(model, iterations=4)
        batched = explainer(videos)
        initial = batched["initial_mask"][0]
        reference = masks.reference_mask(
            model, videos[0], int(batched["target_class"][0]),
            np.log(initial / (1.0 - initial)), iterations=4)
        self.assertEqual(reference["mask"].shape, (8,))
        self.assertAllInRange(reference["mask"], 0.0, 1.0)
        self.assertAllClose(reference["mask"], batched["mask"][0], atol=1e-4)
        self.assertAllClose(reference["loss_curve"], batched["loss_curve"][0],
                            atol=1e-4)
        self.assertLen(reference["step_seconds"], 4)

    def test_gradcam_against_forward_backward(self):
        out = gradcam.measure(self.bench, "clstm")
        details = out["details"]
        batch = details["batch_size"]
        self.assertRow(out["rows"][0], batch / details["seconds"],
                       batch / details["bound_seconds"], 0.8)

    def test_training_flops_against_matmul(self):
        out = training.measure(self.bench, "clstm")
        details = out["details"]
        self.assertEqual(details["train_flops"], 3 * details["forward_flops"])
        self.assertAllClose(details["flops_per_second"],
                            details["train_flops"] / details["step_seconds"])
        self.assertRow(out["rows"][0], details["flops_per_second"],
                       details["matmul_flops_per_second"], None)

    def test_inputs_against_pyav_and_train_step(self):
        out = inputs.measure(self.bench, self.get_temp_dir())
        details = out["details"]
        self.assertEqual(details["num_videos"], 4)
        against_pyav, against_training = out["rows"]
        self.assertRow(against_pyav, details["pipeline_clips_per_second"],
                       details["pyav_clips_per_second"], None)
        self.assertRow(against_training, details["pipeline_clips_per_second"],
                       details["train_clips_per_second"], 3.0)

    def test_convlstm_step_convs_and_xla(self):
        out = convlstm.measure(self.bench, "clstm")
        details = out["details"]
        batch, seconds = details["batch_size"], details["seconds"]
        *convs, xla = out["rows"]
        step = batch / seconds["step"]
        for row, variant in zip(convs, ("looped", "hoisted", "batched")):
            self.assertIn(variant, row["name"])
            self.assertRow(row, step, batch / seconds[variant], None)
        self.assertRow(xla, batch / seconds["xla"], step, None)

    def test_convlstm_conv_variants_have_the_steps_gradients(self):
        model = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        specs = convlstm.conv_specs(model)
        self.assertEqual([s["state_shape"] for s in specs],
                         [(4, 16, 16, 4), (4, 4, 4, 4)])
        self.assertEqual(tuple(specs[1]["kernel"].shape), (5, 5, 4, 16))
        # Hoisting and merging change the schedule, not the result.
        looped = convlstm.looped_convs(specs, 2)()
        self.assertAllClose(convlstm.hoisted_convs(specs, 2)(), looped,
                            rtol=1e-4)
        self.assertTrue(np.isfinite(convlstm.batched_convs(specs, 2)()))


def _one_layer_model(input_shape, layer):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer(inputs))


class FlopsTest(tf.test.TestCase):

    def test_dense_is_two_flops_per_multiply_add(self):
        model = _one_layer_model((5,), keras.layers.Dense(7, use_bias=False))
        self.assertEqual(training.forward_flops(model, 3), 2 * 3 * 5 * 7)

    def test_conv3d_is_two_flops_per_multiply_add(self):
        model = _one_layer_model(
            (4, 6, 8, 3),
            keras.layers.Conv3D(5, (3, 2, 2), padding="same", use_bias=False))
        macs = 2 * (4 * 6 * 8 * 5) * (3 * 2 * 2 * 3)  # Outputs x kernel.
        self.assertEqual(training.forward_flops(model, 2), 2 * macs)

    def test_recurrent_steps_are_all_counted(self):
        layer = keras.layers.ConvLSTM2D(1, 1, use_bias=False,
                                        return_sequences=True)
        model = _one_layer_model((3, 4, 4, 2), layer)
        flops = training.forward_flops(model, 1)
        # Per step 8 1x1 convolutions over 16 pixels (4 of 2 channels in, 4
        # of 1), plus the gates' element-wise ops: more than 3x one step.
        self.assertGreaterEqual(flops, 3 * 2 * 16 * (4 * 2 + 4 * 1))
        self.assertFalse(layer.unroll)


class TimingAndReportTest(tf.test.TestCase):

    def test_interleaved_alternates_order(self):
        calls = []
        times = timing.interleaved(
            dict(a=lambda: calls.append("a"), b=lambda: calls.append("b")),
            repeats=3, warmup=1)
        self.assertEqual("".join(calls), "ab" + "ab" + "ba" + "ab")
        self.assertEqual([len(times["a"]), len(times["b"])], [3, 3])

    def test_setup_result_is_passed_and_untimed(self):
        seen = []
        times = timing.interleaved(
            dict(a=seen.append), repeats=2, warmup=0,
            setups=dict(a=lambda: len(seen)))
        self.assertEqual(seen, [0, 1])
        self.assertLen(times["a"], 2)

    def test_row_ratio_and_target(self):
        row = report.row("x", 6.0, 2.0, "clips/s", target=4.0)
        self.assertEqual((row["ratio"], row["met"]), (3.0, False))
        self.assertIsNone(report.row("x", 1.0, 2.0, "clips/s")["met"])

    def test_table_lists_every_row_and_note(self):
        rows = [report.row("fast", 3e9, 1e9, "FLOP/s", 2.0, note="why"),
                report.row("slow", 0.5, 2.0, "clips/s", 0.8)]
        lines = report.format_table(rows).splitlines()
        self.assertEqual(lines[0].split(),
                         ["name", "measured", "baseline", "ratio", "target",
                          "met?"])
        self.assertEqual(lines[2].split(),
                         ["fast", "3", "GFLOP/s", "1", "GFLOP/s", "3", ">=",
                          "2", "yes"])
        self.assertEqual(lines[3].split()[-1], "NO")
        self.assertEqual(lines[-1].strip(), "[1] fast: why")

    def test_json_written_atomically(self):
        path = os.path.join(self.get_temp_dir(), "out", "bench.json")
        report.write_json(path, dict(rows=[1]))
        with open(path) as f:
            self.assertEqual(json.load(f), dict(rows=[1]))
        self.assertEqual(os.listdir(os.path.dirname(path)), ["bench.json"])


def run_binary(*args):
    return subprocess.run(
        [sys.executable, "-m", "binaries.benchmark", *args],
        cwd=testing.REPO, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


class BinaryTest(tf.test.TestCase):

    def test_smoke_run_prints_table_and_writes_json(self):
        output = os.path.join(self.get_temp_dir(), "bench.json")
        # Two sections keep it short; MeasurementsTest covers the others.
        result = run_binary("--config=configs/benchmark.py:smoke",
                            "--config.sections=('gradcam', 'training')",
                            f"--output={output}")
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        with open(output) as f:
            written = json.load(f)
        self.assertEqual(
            [row["name"] for row in written["rows"]],
            ["gradcam clstm b=2 vs fwd+bwd",
             "train clstm b=2 vs 256x256 matmul"])
        table = result.stdout[result.stdout.index("name "):]
        self.assertEqual(
            [line.split()[:3] for line in table.splitlines()[2:4]],
            [["gradcam", "clstm", "b=2"], ["train", "clstm", "b=2"]])
        self.assertEqual(written["config"]["variant"], "smoke")
        self.assertEqual(set(written["details"]),
                         {"gradcam clstm", "training clstm"})
        self.assertTrue(written["device"]["devices"])

    def test_bad_flag_is_one_line_and_status_2(self):
        result = run_binary("--outptu=x.json")
        self.assertEqual(result.returncode, 2)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "benchmark.py: error: Unknown command line flag 'outptu'. "
            "Did you mean: output ?")


if __name__ == "__main__":
    tf.test.main()
