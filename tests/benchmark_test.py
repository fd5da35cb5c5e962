"""Tests for benchmarks and binaries/benchmark.py."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from benchmarks import capacity
from benchmarks import convlstm
from benchmarks import decode
from benchmarks import gradcam
from benchmarks import inputs
from benchmarks import masks
from benchmarks import passes
from benchmarks import precision
from benchmarks import table
from benchmarks import timing
from benchmarks import training
from tests import testing
from tfvidinterp.interp import temporal_mask


def _config():
    config = testing.load_config("configs/benchmark.py", "smoke")
    config.masks.batch_sizes = (2,)  # One round of timings, not two.
    return config


class MeasurementsTest(tf.test.TestCase, parameterized.TestCase):
    """Each measurement on the smoke config's tiny C-LSTM, sharing traces.

    The timings differ from run to run: these check what each measurement
    compares, under which name and unit, and which rows are targets.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bench = passes.Workbench(_config())

    def assertRows(self, rows, names, unit, targets):
        """`rows` compare positive finite rates, `targets` the gated ones."""
        self.assertEqual([row["name"] for row in rows], names)
        for row in rows:
            self.assertEqual(row["unit"], unit)
            for key in ("measured", "baseline", "ratio"):
                self.assertTrue(np.isfinite(row[key]), row)
                self.assertGreater(row[key], 0.0, row)
        self.assertEqual(
            [row["name"] for row in rows if row["target"] is not None], targets
        )

    @pytest.mark.slow
    def test_masks_against_bound_and_eager_reference(self):
        out = masks.measure(self.bench, "clstm")
        names = [
            "masks clstm b=2 vs 3 fwd+bwd",
            "masks clstm b=2 vs eager per-clip",
        ]
        self.assertRows(out["rows"], names, "clips/s", names)
        bound, eager = out["rows"]
        # Both rows rate the same explainer calls.
        self.assertEqual(bound["measured"], eager["measured"])
        details = out["details"]
        self.assertEqual(list(details["batch_sizes"]), [2])
        self.assertEqual(details["best_batch_size"], 2)
        self.assertEqual(list(details["trace_seconds"]), [2])
        # 2 steps per run, 1 run, the warm-up step left out.
        self.assertEqual(details["reference"]["timed_iterations"], 2)
        self.assertEqual(
            eager["note"],
            "eager: median of 2 steps x 3, without its mask initialisation",
        )

    def test_eager_reference_reaches_the_explainers_mask(self):
        model = testing.tiny_model("clstm", frames=8, size=32, num_layers=2)
        videos = testing.tiny_videos(batch=1, frames=8, size=32)
        explainer = temporal_mask.TemporalMaskExplainer(model, iterations=4)
        batched = explainer(videos)
        initial = batched["initial_mask"][0]
        reference = masks.reference_mask(
            model,
            videos[0],
            int(batched["target_class"][0]),
            np.log(initial / (1.0 - initial)),
            iterations=4,
        )
        self.assertEqual(reference["mask"].shape, (8,))
        self.assertAllInRange(reference["mask"], 0.0, 1.0)
        self.assertAllClose(reference["mask"], batched["mask"][0], atol=1e-4)
        self.assertAllClose(
            reference["loss_curve"], batched["loss_curve"][0], atol=1e-4
        )
        self.assertLen(reference["step_seconds"], 4)

    @pytest.mark.slow
    def test_gradcam_against_forward_backward(self):
        out = gradcam.measure(self.bench, "clstm")
        names = ["gradcam clstm b=2 vs fwd+bwd"]
        self.assertRows(out["rows"], names, "clips/s", names)
        self.assertEqual(out["details"]["batch_size"], 2)

    @pytest.mark.slow
    def test_bfloat16_against_float32(self):
        out = precision.measure(self.bench, "clstm")
        names = [
            f"mixed_bfloat16 clstm {kind} b=2 vs float32"
            for kind in ("train", "mask", "gradcam")
        ]
        self.assertRows(out["rows"], names, "clips/s", names[:2])
        self.assertEqual(
            sorted(out["details"]["seconds"]),
            sorted(
                f"{kind} {tag}"
                for kind in ("train", "mask", "gradcam")
                for tag in ("f32", "low")
            ),
        )
        # The policy was the build's only: later models are float32.
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")

    def test_training_flops_against_matmul(self):
        out = training.measure(self.bench, "clstm")
        self.assertRows(
            out["rows"], ["train clstm b=2 vs 256x256 matmul"], "FLOP/s", []
        )
        details = out["details"]
        self.assertEqual(
            (details["batch_size"], details["matmul_size"]), (2, 256)
        )
        self.assertGreater(details["forward_flops"], 0)
        self.assertRegex(
            out["rows"][0]["note"], r"^[\d.e+-]+ GFLOP/step = 3 x forward"
        )

    @pytest.mark.slow
    def test_inputs_against_pyav_and_train_step(self):
        out = inputs.measure(self.bench, self.get_temp_dir())
        self.assertRows(
            out["rows"][:2],
            [
                "input tf.data 8x56x56 vs PyAV decode",
                "input tf.data vs clstm train step b=2",
            ],
            "clips/s",
            ["input tf.data vs clstm train step b=2"],
        )
        self.assertEqual(out["details"]["num_videos"], 4)
        # Both rows rate the same pipeline reads.
        self.assertEqual(*(row["measured"] for row in out["rows"][:2]))
        memory = out["rows"][2]
        self.assertEqual(memory["name"], "decode peak memory 10 min vs 1 min")
        self.assertEqual(memory["unit"], "B")
        # Decoding streams: a 10 times longer video costs no more memory.
        self.assertLess(memory["ratio"], 1.5)

    @pytest.mark.slow
    def test_convlstm_step_convs_and_xla(self):
        out = convlstm.measure(self.bench, "clstm")
        prefix = "convlstm clstm b=2 step vs its convs"
        self.assertRows(
            out["rows"],
            [
                f"{prefix}, looped",
                f"{prefix}, hoisted",
                f"{prefix}, batched",
                "convlstm clstm b=2 XLA step vs step",
            ],
            "clips/s",
            [],
        )
        self.assertEqual(
            set(out["details"]["seconds"]),
            {"step", "xla", "looped", "hoisted", "batched"},
        )

    def test_convlstm_conv_variants_have_the_steps_gradients(self):
        model = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        specs = convlstm.conv_specs(model)
        self.assertEqual(
            [s["state_shape"] for s in specs], [(4, 16, 16, 4), (4, 4, 4, 4)]
        )
        self.assertEqual(tuple(specs[1]["kernel"].shape), (5, 5, 4, 16))
        # Hoisting and merging change the schedule, not the result.
        looped = convlstm.looped_convs(specs, 2)()
        self.assertAllClose(
            convlstm.hoisted_convs(specs, 2)(), looped, rtol=1e-4
        )
        self.assertTrue(np.isfinite(convlstm.batched_convs(specs, 2)()))

    @pytest.mark.slow
    def test_decode_per_core_against_full_decode_and_floor(self):
        out = decode.measure(self.bench, self.get_temp_dir())
        names = [
            "input/core 8x56x56 reduced vs full decode, stored 64",
            "input/core 8x56x56 vs decode-only floor, stored 64",
        ]
        self.assertRows(out["rows"], names, "clips/s", names[1:])
        rates = out["details"]["clips_per_second"][64]
        self.assertEqual(sorted(rates), ["floor", "full 56", "reduced 56"])
        # Both rows rate the same reduced-decode pipeline.
        self.assertEqual(*(row["measured"] for row in out["rows"]))


def _one_layer_model(input_shape, layer):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer(inputs))


class FlopsTest(tf.test.TestCase):
    """Known counts: two FLOPs per multiply-add, every time step."""

    def test_dense(self):
        model = _one_layer_model((5,), keras.layers.Dense(7, use_bias=False))
        # 3 rows x 5 inputs x 7 outputs = 105 multiply-adds.
        self.assertEqual(training.forward_flops(model, 3), 210)

    def test_conv3d(self):
        model = _one_layer_model(
            (4, 6, 8, 3),
            keras.layers.Conv3D(5, (3, 2, 2), padding="same", use_bias=False),
        )
        # 2 clips x 960 outputs (4x6x8x5) x 36 inputs each (3x2x2x3) =
        # 69,120 multiply-adds.
        self.assertEqual(training.forward_flops(model, 2), 138_240)

    def test_recurrent_steps_are_all_counted(self):
        def flops(steps):
            layer = keras.layers.ConvLSTM2D(
                1, 1, use_bias=False, return_sequences=True
            )
            model = _one_layer_model((steps, 4, 4, 2), layer)
            count = training.forward_flops(model, 1)
            self.assertFalse(layer.unroll)  # Unrolled only to be counted.
            return count

        one = flops(1)
        # A step's 4 gates x 16 pixels x (2 input + 1 state) channels =
        # 192 multiply-adds, plus the gates' element-wise ops.
        self.assertGreater(one, 384)
        self.assertEqual(flops(3), 3 * one)


class CapacityTest(tf.test.TestCase):
    def test_clips_and_cores(self):
        # 100 TFLOP/s x 0.4 / 100 GFLOP = 400 clips/s; 400 / 30 = 13.3.
        out = capacity.capacity(100e9, 100e12, 0.4, 30.0)
        self.assertAllClose(out["clips_per_second"], 400.0)
        self.assertEqual(out["cores"], 14)

    def test_train_flops_are_three_forwards(self):
        model = _one_layer_model((5,), keras.layers.Dense(7, use_bias=False))
        self.assertEqual(capacity.train_flops_per_clip(model), 3 * 70)


class TimingAndReportTest(tf.test.TestCase):
    def test_interleaved_reads_the_given_clock(self):
        ticks = iter([0.0, 2.0, 10.0, 13.0])
        times = timing.interleaved(
            {"a": lambda: None}, 2, warmup=0, clock=lambda: next(ticks)
        )
        self.assertEqual(times["a"], [2.0, 3.0])

    def test_interleaved_alternates_order(self):
        calls = []
        times = timing.interleaved(
            dict(a=lambda: calls.append("a"), b=lambda: calls.append("b")),
            repeats=3,
            warmup=1,
        )
        self.assertEqual("".join(calls), "ab" + "ab" + "ba" + "ab")
        self.assertEqual([len(times["a"]), len(times["b"])], [3, 3])

    def test_setup_result_is_passed_and_untimed(self):
        seen = []
        times = timing.interleaved(
            dict(a=seen.append),
            repeats=2,
            warmup=0,
            setups=dict(a=lambda: len(seen)),
        )
        self.assertEqual(seen, [0, 1])
        self.assertLen(times["a"], 2)

    def test_row_ratio_and_target(self):
        row = table.row("x", 6.0, 2.0, "clips/s", target=4.0)
        self.assertEqual((row["ratio"], row["met"]), (3.0, False))
        self.assertTrue(table.row("x", 6.0, 2.0, "clips/s", 3.0)["met"])
        self.assertIsNone(table.row("x", 1.0, 2.0, "clips/s")["met"])

    def test_values_get_a_prefix(self):
        for value, text in (
            (3e12, "3 TFLOP/s"),
            (1.5e9, "1.5 GFLOP/s"),
            (2500.0, "2.5 kFLOP/s"),
            (999.0, "999 FLOP/s"),
            (0.1234, "0.123 FLOP/s"),
        ):
            self.assertEqual(table.format_value(value, "FLOP/s"), text)

    def test_table_lists_every_row_and_note(self):
        rows = [
            table.row("fast", 3e9, 1e9, "FLOP/s", 2.0, note="why"),
            table.row("slow", 0.5, 2.0, "clips/s", 0.8),
        ]
        lines = table.format_table(rows).splitlines()
        self.assertEqual(
            lines[0].split(),
            ["name", "measured", "baseline", "ratio", "target", "met?"],
        )
        self.assertEqual(
            lines[2].split(),
            ["fast", "3", "GFLOP/s", "1", "GFLOP/s", "3", ">=", "2", "yes"],
        )
        self.assertEqual(lines[3].split()[-1], "NO")
        self.assertEqual(lines[-1].strip(), "[1] fast: why")


def run_binary(*args):
    return subprocess.run(
        [sys.executable, "-m", "binaries.benchmark", *args],
        cwd=testing.REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )


@pytest.mark.slow
class BinaryTest(tf.test.TestCase):
    def test_smoke_run_prints_table_and_writes_json(self):
        output = os.path.join(self.get_temp_dir(), "bench.json")
        # Two sections keep it short; MeasurementsTest covers the others.
        result = run_binary(
            "--config=configs/benchmark.py:smoke",
            "--config.sections=('gradcam', 'training')",
            f"--output={output}",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        with open(output) as f:
            written = json.load(f)
        self.assertEqual(
            [row["name"] for row in written["rows"]],
            [
                "gradcam clstm b=2 vs fwd+bwd",
                "train clstm b=2 vs 256x256 matmul",
            ],
        )
        table = result.stdout[result.stdout.index("name ") :]
        self.assertEqual(
            [line.split()[:3] for line in table.splitlines()[2:4]],
            [["gradcam", "clstm", "b=2"], ["train", "clstm", "b=2"]],
        )
        self.assertEqual(written["config"]["variant"], "smoke")
        self.assertEqual(
            set(written["details"]), {"gradcam clstm", "training clstm"}
        )
        self.assertTrue(written["device"]["devices"])

    def test_bad_flag_is_one_line_and_status_2(self):
        result = run_binary("--outptu=x.json")
        self.assertEqual(result.returncode, 2)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "benchmark.py: error: Unknown command line flag 'outptu'. "
            "Did you mean: output ?",
        )


if __name__ == "__main__":
    tf.test.main()
