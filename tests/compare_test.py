"""Tests for tfvidinterp.jobs.compare and binaries/compare.py on made-up
results."""

import copy
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy import stats
from tensorboard.backend.event_processing import event_accumulator

from tests import testing
from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.jobs import compare

FRAMES, SIZE = 8, 32
CLASSES = ["left", "right", "up", "down"]
# Per clip: OS, FS, RS, mask. I3D's clips 2 (OS-RS = 0) and 5 (OS-FS = 0)
# fall to the drop ratio's filter.
I3D = [
    (0.9, 0.1, 0.5, 2),
    (0.9, 0.2, 0.6, 3),
    (0.9, 0.3, 0.9, 2),
    (0.9, 0.4, 0.7, 4),
    (0.9, 0.5, 0.8, 1),
    (0.9, 0.9, 0.1, 3),
]
CLSTM = [
    (0.8, 0.2, 0.4, 5),
    (0.7, 0.3, 0.5, 6),
    (0.8, 0.1, 0.6, 4),
    (0.6, 0.2, 0.3, 5),
    (0.8, 0.4, 0.7, 7),
    (0.9, 0.5, 0.6, 6),
]


def heatmaps(model, clip):
    """Discs of radius 6 or 7 (I3D), 4 or 5 (C-LSTM) by the clip's parity.

    I3D: one disc at (16 + clip, 16) on frames >= clip (clip 5: none).
    C-LSTM: two corner discs, and a third on frames < clip.
    """
    maps = np.zeros((FRAMES, SIZE, SIZE), np.uint8)
    for t, frame in enumerate(maps):
        if model == "i3d" and t >= clip and clip < 5:
            cv2.circle(frame, (16 + clip, 16), 6 + clip % 2, 255, -1)
        if model == "clstm":
            for x, y in [(8, 8), (24, 24)] + [(24, 8)] * (t < clip):
                cv2.circle(frame, (x, y), 4 + clip % 2, 255, -1)
    return (maps / 255.0).astype(np.float16)


def write_results(directory, model, scores):
    """An `explain` results directory (see the results schema)."""
    os.makedirs(os.path.join(directory, "gradcam"))
    meta = {
        "run": f"{model}_synthetic",
        "model_name": model,
        "dataset": "synthetic",
        "classes": CLASSES,
        "split": "test",
        "params": {},
    }
    with open(os.path.join(directory, "meta.json"), "w") as f:
        json.dump(meta, f)
    frames = np.linspace(0, 255, SIZE * SIZE * 3).reshape(SIZE, SIZE, 3)
    frames = np.stack([np.roll(frames, 4 * t, 1) for t in range(FRAMES)])
    lines = []
    for clip, (os_, fs, rs, length) in enumerate(scores):
        binary = [int(2 <= t < 2 + length) for t in range(FRAMES)]
        np.savez_compressed(
            os.path.join(directory, f"gradcam/c{clip}.npz"),
            heatmaps=heatmaps(model, clip),
            frames=frames.astype(np.uint8),
        )
        lines.append(
            json.dumps(
                {
                    "id": f"c{clip}",
                    "split": "test",
                    "model_name": model,
                    "run": meta["run"],
                    "dataset": "synthetic",
                    "label": clip % 4,
                    "predicted_class": (clip + (clip == 1)) % 4,
                    "target_class": clip % 4,
                    "original_score": os_,
                    "true_class_score": 0.3,
                    "gradcam": {
                        "file": f"gradcam/c{clip}.npz",
                        "layer": "x",
                        "weighting": "time",
                        "score": "logit",
                        "class_id": clip % 4,
                    },
                    "mask": {
                        "perturbation": "freeze",
                        "mask": binary,
                        "binary_mask": binary,
                        "mask_length": length,
                        "freeze_score": fs,
                        "reverse_score": rs,
                        "freeze_prediction": 0,
                        "reverse_prediction": 0,
                        "loss_curve": [1.0],
                        "steps_run": 1,
                        "initial_mask": binary,
                    },
                    "ground_truth": None,
                    "params": {},
                }
            )
        )
    with open(os.path.join(directory, "results.jsonl"), "w") as f:
        f.write("\n".join(lines) + '\n{"id": "cut sh')  # An interrupted run.


def write_eval(path, top1):
    def part(scale):
        return {
            "top1": top1 * scale,
            "top5": 1.0,
            "macro_f1": top1 * scale,
            "f1": {c: top1 * scale for c in CLASSES},
            "confusion_matrix": [],
            "num_clips": 6,
        }

    with open(path, "w") as f:
        json.dump(
            {
                "split": "test",
                "step": 1,
                "forward": part(1.0),
                "reversed": part(0.5),
            },
            f,
        )


class CompareTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.inputs = [os.path.join(cls.root, m) for m in ("i3d", "clstm")]
        cls.evals = [f"{d}.json" for d in cls.inputs]
        for i, (model, scores) in enumerate((("i3d", I3D), ("clstm", CLSTM))):
            write_results(cls.inputs[i], model, scores)
            write_eval(cls.evals[i], top1=(0.8, 0.6)[i])
        cls.out = os.path.join(cls.root, "out")
        cls.config = testing.load_config("configs/compare.py")
        cls.stats = compare.run(cls.inputs, cls.out, cls.config, cls.evals)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)
        super().tearDownClass()

    def test_statistics_of_the_hand_made_clips(self):
        i3d, clstm = self.stats["models"]
        self.assertEqual(
            (i3d["label"], clstm["label"]),
            ("I3D (Synthetic)", "C-LSTM (Synthetic)"),
        )
        self.assertEqual(i3d["num_clips"], 6)  # The cut line is skipped.
        counts = [c["blob_count"] for c in i3d["clips"]]
        self.assertAllClose(counts, [1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 0])
        self.assertEqual(i3d["clips_without_blobs"], 1)
        self.assertIsNone(i3d["clips"][5]["blob_size"])
        self.assertAllClose(
            [c["blob_size"] for c in i3d["clips"][:5]],
            [11, 13, 11, 13, 11],
            atol=1,
        )  # 2r - 1.
        # The frame's centre is (15.5, 15.5).
        self.assertAllClose(
            [c["center_distance"] for c in i3d["clips"][:5]],
            np.hypot(np.arange(5) + 0.5, 0.5),
            atol=0.1,
        )
        self.assertAllClose(
            [c["blob_count"] for c in clstm["clips"]],
            [2 + c / 8 for c in range(6)],
        )
        self.assertEqual(i3d["drop_ratio_left_out"], 2)
        self.assertEqual(clstm["drop_ratio_left_out"], 0)
        self.assertAllClose(
            i3d["summary"]["drop_ratio"]["mean"],
            np.mean([2, 0.7 / 0.3, 2.5, 4]),
        )
        self.assertAllClose(
            [c["drop_difference"] for c in i3d["clips"]],
            [rs - fs for _, fs, rs, _ in I3D],
        )
        self.assertEqual(
            [c["mask_length"] for c in clstm["clips"]], [s[3] for s in CLSTM]
        )
        self.assertEqual(self.stats["blob_detector"]["blobColor"], 255)

    def test_ttests_agree_with_scipy(self):
        i3d, clstm = self.stats["models"]
        self.assertLen(self.stats["ttests"], 6)
        for test in self.stats["ttests"]:
            a, b = (
                [
                    c[test["measure"]]
                    for c in m["clips"]
                    if c[test["measure"]] is not None
                ]
                for m in (i3d, clstm)
            )
            expected = stats.ttest_ind(a, b, equal_var=False)
            self.assertAllClose(
                [test["t"], test["p"]], [expected.statistic, expected.pvalue]
            )

    def test_tables_as_csv(self):
        tables = os.path.join(self.out, "tables")
        self.assertCountEqual(
            os.listdir(tables),
            [
                "table1.csv",
                "table2.csv",
                "table3.csv",
                "table4.csv",
                "ttest.csv",
            ],
        )
        with open(os.path.join(tables, "table1.csv")) as f:
            table1 = list(csv.reader(f))
        self.assertEqual(
            table1[0],
            [
                "Model",
                "Synthetic (Top-1)",
                "Synthetic (Top-5)",
                "Synthetic (macro F1)",
            ],
        )
        self.assertEqual(
            [r[:2] for r in table1[1:]],
            [
                ["I3D", "0.8"],
                ["I3D (rev.)", "0.4"],
                ["C-LSTM", "0.6"],
                ["C-LSTM (rev.)", "0.3"],
            ],
        )
        with open(os.path.join(tables, "table4.csv")) as f:
            table4 = list(csv.reader(f))
        self.assertEqual(
            table4[0][:3],
            ["Model (Dataset)", "Mask length mean", "Mask length std"],
        )
        self.assertEqual(table4[1][0], "I3D (Synthetic)")
        self.assertAllClose(float(table4[1][1]), np.mean([2, 3, 2, 4, 1, 3]))
        self.assertEqual(table4[1][-1], "2")  # Left out of the drop ratio.

    def test_gifs_stack_both_models(self):
        gifs = sorted(os.listdir(os.path.join(self.out, "gifs")))
        self.assertEqual(gifs, [f"c{i}.gif" for i in range(6)])
        image = Image.open(os.path.join(self.out, "gifs", "c1.gif"))
        self.assertEqual(image.n_frames, FRAMES)
        scale = self.config.gif_min_height // SIZE
        self.assertEqual(image.size[0], 3 * SIZE * scale + 4)
        self.assertGreater(image.size[1], 2 * SIZE * scale)

    def test_tensorboard_reads_back_gifs_scalars_and_tables(self):
        events = event_accumulator.EventAccumulator(
            os.path.join(self.out, "tb", "comparison"),
            size_guidance={event_accumulator.TENSORS: 0},
        )
        events.Reload()
        tags = events.Tags()["tensors"]
        self.assertContainsSubset(
            ["clips/c0", "tables/table1", "tables/ttest"], tags
        )
        self.assertEqual(
            events.SummaryMetadata("clips/c0").plugin_data.plugin_name, "images"
        )
        width, height, data = tf.make_ndarray(
            events.Tensors("clips/c0")[0].tensor_proto
        )
        self.assertTrue(data.startswith(b"GIF89a"))
        image = Image.open(io.BytesIO(data))
        self.assertEqual(
            (image.n_frames, image.size), (FRAMES, (int(width), int(height)))
        )
        events = event_accumulator.EventAccumulator(
            os.path.join(self.out, "tb", files.safe_name("I3D (Synthetic)")),
            size_guidance={event_accumulator.TENSORS: 0},
        )
        events.Reload()
        mean = tf.make_ndarray(
            events.Tensors("mask_length/mean")[0].tensor_proto
        )
        self.assertAllClose(mean, np.mean([2, 3, 2, 4, 1, 3]))
        self.assertIn("drop_ratio", events.Tags()["tensors"])

    @pytest.mark.slow
    def test_report_renders_with_every_table_and_image(self):
        page = os.path.join(self.out, "report.html")
        shot = os.path.join(self.out, "report.png")
        dom = testing.render(page, os.path.join(self.root, "chromium"), shot)
        for table in ("table1", "table2", "table3", "table4", "ttest"):
            self.assertIn(f'<table id="{table}">', dom)
        self.assertEqual(testing.images_loaded(dom), (12, 12))
        pixels = np.asarray(Image.open(shot).convert("L"), np.float32)
        self.assertGreater(pixels.std(), 10)  # Not a blank page.

    def test_report_without_faithfulness_is_unchanged(self):
        self.assertNotIn("faithfulness", self.stats)
        self.assertEqual(self.stats["warnings"], [])
        self.assertNotIn(
            "faithfulness.csv", os.listdir(os.path.join(self.out, "tables"))
        )
        with open(os.path.join(self.out, "report.html")) as f:
            self.assertNotIn("Faithfulness", f.read())

    def test_faithfulness_table_when_a_model_has_it(self):
        root = os.path.join(self.get_temp_dir(), "faithful")
        inputs = [os.path.join(root, m) for m in ("i3d", "clstm")]
        for source, target in zip(self.inputs, inputs):
            shutil.copytree(source, target)
        with open(os.path.join(inputs[0], "faithfulness.json"), "w") as f:
            json.dump(testing.FAITHFULNESS, f)
        config = copy.deepcopy(self.config)
        config.max_gifs = 0
        out = os.path.join(root, "out")
        stats = compare.run(
            inputs, out, config, warnings=["clstm: test accuracy 0.5"]
        )
        self.assertEqual(stats["faithfulness"], [testing.FAITHFULNESS, None])
        # The caller's warnings, then each missed faithfulness target.
        self.assertLen(stats["warnings"], 2)
        self.assertEqual(stats["warnings"][0], "clstm: test accuracy 0.5")
        self.assertStartsWith(
            stats["warnings"][1],
            "I3D (Synthetic): pointing_game: Grad-CAM's peak at layer Mixed_3c",
        )
        with open(os.path.join(out, "report.html")) as f:
            page = f.read()
        self.assertIn('<table id="faithfulness"><caption>Faithfulness', page)
        self.assertIn('<div class="banner" role="alert">', page)
        self.assertIn("<li>clstm: test accuracy 0.5</li>", page)
        self.assertIn('<table id="layers">', page)
        with open(os.path.join(out, "tables", "layers.csv")) as f:
            self.assertEqual(
                next(csv.reader(f))[:3], ["Model", "Layer", "Cells"]
            )
        with open(os.path.join(out, "tables", "faithfulness.csv")) as f:
            rows = list(csv.reader(f))
        self.assertEqual(
            rows[0][2:5],
            [
                "I3D (Synthetic)",
                "I3D (Synthetic) baseline",
                "I3D (Synthetic) target met",
            ],
        )
        self.assertEqual(rows[1][2:], ["0.6", "0.3", "yes", "", "", ""])
        with open(os.path.join(inputs[1], "faithfulness.json"), "w") as f:
            f.write("{")
        with self.assertRaisesRegex(
            errors.InputError, "cannot read .*clstm/faithfulness.json"
        ):
            compare.run(inputs, out, config)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(errors.InputError, "cannot read results"):
            compare.run([self.root], self.out, self.config)
        with self.assertRaisesRegex(errors.InputError, "1 eval files for 2"):
            compare.run(self.inputs, self.out, self.config, self.evals[:1])

    @pytest.mark.slow
    def test_binary(self):
        out = os.path.join(self.root, "binary")
        command = [
            sys.executable,
            "-m",
            "binaries.compare",
            f"--results={','.join(self.inputs)}",
            f"--eval={self.evals[0]}",
            f"--eval={self.evals[1]}",
            "--config.max_gifs=1",
            f"--output_dir={out}",
        ]
        result = subprocess.run(
            command,
            cwd=testing.REPO,
            text=True,
            capture_output=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(os.path.join(out, "gifs")), ["c0.gif"])
        self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
        result = subprocess.run(
            command[:5] + [f"--output_dir={out}"],
            cwd=testing.REPO,
            text=True,
            capture_output=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 2)
        self.assertNotIn("Traceback", result.stderr)
        self.assertIn(
            "compare.py: error: 1 eval files for 2 results", result.stderr
        )


if __name__ == "__main__":
    tf.test.main()
