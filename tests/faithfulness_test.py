"""Tests for tfvidinterp.jobs.faithfulness, its measures and its binary."""

import json
import math
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp import interp
from tfvidinterp.data import synthetic
from tfvidinterp.interp import grad_cam
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import faithfulness
from tfvidinterp.measures import spatial
from tfvidinterp.measures import statistics
from tfvidinterp.measures import targets
from tfvidinterp.measures import temporal

WINDOW = [0, 0, 1, 1, 1, 1, 0, 0]  # T = 8, event window [2, 6).


def flash_model(frames=4, size=4, gain=4.0):
    """Logits `(gain * mean(frame 2) / 255, 0)`: only frame 2 matters."""
    inputs = keras.Input((frames, size, size, 3))
    dense = keras.layers.Dense(2)
    logits = dense(keras.layers.Flatten()(inputs))
    kernel = np.zeros((frames, size, size, 3, 2), np.float32)
    kernel[2, ..., 0] = gain / (255.0 * size * size * 3)
    dense.set_weights([kernel.reshape(-1, 2), np.zeros(2, np.float32)])
    return keras.Model(inputs, logits)


def flash_video(frames=4, size=4):
    video = np.zeros((frames, size, size, 3), np.float32)
    video[2] = 255.0
    return video


class MeasuresTest(tf.test.TestCase, parameterized.TestCase):
    # Random runs of length 2 (7 placements) have IoUs 0, 1/5, 2/4, 2/4,
    # 2/4, 1/5, 0: mean 1.9/7. Length 4 (5 placements): 2/6, 3/5, 4/4, 3/5,
    # 2/6: mean (43/15)/5 = 43/75. Length 8: the one placement, 4/8.
    @parameterized.named_parameters(
        ("empty", [0] * 8, 0.0, 0.0),
        ("inside", [0, 0, 1, 1, 0, 0, 0, 0], 2 / 4, 1.9 / 7),
        ("half_out", [0, 0, 0, 0, 1, 1, 1, 1], 2 / 6, 43 / 75),
        ("everything", [1] * 8, 4 / 8, 4 / 8),
    )
    def test_iou_and_its_exact_random_baseline(self, mask, iou, random):
        self.assertAllClose(temporal.temporal_iou(mask, WINDOW), iou)
        self.assertAllClose(temporal.random_run_iou(sum(mask), WINDOW), random)

    def test_pooled_mask_iou(self):
        records = [
            {"mask": {"binary_mask": m}, "ground_truth": {"event": WINDOW}}
            for m in ([0, 0, 1, 1, 0, 0, 0, 0], [0] * 8)
        ]
        pooled = temporal.pooled_mask_iou(records)
        self.assertAllClose(pooled["learned"], 0.25)
        self.assertAllClose(pooled["random"], 1.9 / 14)
        self.assertAllClose(pooled["difference"], 0.25 - 1.9 / 14)
        self.assertTrue(math.isnan(temporal.pooled_mask_iou([])["learned"]))

    @parameterized.parameters(
        ((64, 64), 3), ((32, 32), 2), ((16, 20), 1), ((10, 10), 1)
    )
    def test_default_tolerance(self, size, tolerance):
        self.assertEqual(spatial.default_tolerance(*size), tolerance)

    def test_peak_of_a_plateau_is_its_centroid(self):
        heatmap = np.zeros((16, 20), np.float32)
        heatmap[4:6, 10:14] = 1.0
        heatmap[9, 3] = 0.5
        self.assertEqual(spatial.peak(heatmap), (5.0, 12.0))
        heatmap[9, 3] = 2.0
        self.assertEqual(spatial.peak(heatmap), (9.5, 3.5))
        self.assertIsNone(spatial.peak(np.zeros((16, 20))))

    def test_in_boxes_with_tolerance(self):
        # Rows and columns [8, 16] of a 32 x 32 frame; object 2 invalid.
        boxes = [[0.25, 0.25, 0.5, 0.5], [0.0, 0.0, 1.0, 1.0]]
        valid = [True, False]
        for point, tolerance, hit in (
            ((10.5, 10.5), 0, True),
            ((17.5, 10.5), 1, False),
            ((17.5, 10.5), 2, True),
            ((10.5, 5.5), 2, False),
            ((10.5, 5.5), 3, True),
            (None, 30, False),
            ((16.0, 16.0), 0, True),
            ((30.0, 30.0), 0, False),
        ):
            self.assertEqual(
                spatial.in_boxes(point, boxes, valid, 32, 32, tolerance),
                hit,
                (point, tolerance),
            )

    def test_pointing_game_counts_event_frames_with_an_object(self):
        heatmaps = np.zeros((4, 32, 32), np.float32)
        heatmaps[0, 10, 10] = 1.0  # In the box, but outside the window.
        heatmaps[1, 10, 10] = 1.0  # Hit.
        heatmaps[2, 28, 28] = 1.0  # Miss; the centre (16, 16) hits.
        # Frame 3 is all zero: a miss, its centre too.
        event = [0, 1, 1, 1]
        boxes = np.zeros((4, 2, 4))
        boxes[:3, 0] = [0.25, 0.25, 0.5, 0.5]
        boxes[3, 0] = [0.75, 0.0, 1.0, 0.25]
        valid = np.zeros((4, 2), bool)
        valid[:, 0] = True
        game = spatial.pointing_game(heatmaps, event, boxes, valid, 1)
        self.assertEqual(game, {"hits": 1, "centre_hits": 2, "frames": 3})
        valid[2, 0] = False
        game = spatial.pointing_game(heatmaps, event, boxes, valid, 1)
        self.assertEqual(game, {"hits": 1, "centre_hits": 1, "frames": 2})

    def test_time_profile(self):
        heatmaps = (
            np.ones((4, 2, 3)) * np.array([0, 1, 0.5, 0.5])[:, None, None]
        )
        profile = temporal.time_profile(heatmaps, [0, 1, 1, 0])
        self.assertAllClose(
            [
                profile[k]
                for k in ("inside", "outside", "mass_inside", "window_fraction")
            ],
            [0.75, 0.25, 0.75, 0.5],
        )
        self.assertTrue(
            math.isnan(
                temporal.time_profile(np.zeros((4, 2, 3)), [0, 1, 1, 0])[
                    "mass_inside"
                ]
            )
        )
        records = [
            {"id": i, "ground_truth": {"event": [0, 1, 1, 0]}} for i in "ab"
        ]
        pooled = temporal.pooled_time_profile(
            records, {"a": heatmaps, "b": heatmaps * 3}
        )
        # Inside (0.75 + 2.25) / 2, outside (0.25 + 0.75) / 2.
        self.assertAllClose(pooled["inside"], 1.5)
        self.assertAllClose(pooled["ratio"], 3.0)
        self.assertAllClose(pooled["mass_inside"], 0.75)

    def test_frame_order_and_order_masks(self):
        self.assertEqual(
            temporal.frame_order([0.1, 0.9, 0.9, 0.2]).tolist(), [1, 2, 3, 0]
        )
        self.assertEqual(
            temporal.order_masks([2, 0, 1]).tolist(),
            [[0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1]],
        )

    def test_spearman(self):
        self.assertAllClose(statistics.spearman([1, 2, 3], [30, 20, 10]), -1.0)
        self.assertAllClose(
            statistics.spearman([[1, 2], [3, 4]], [1, 3, 2, 4]), 0.8
        )
        self.assertTrue(math.isnan(statistics.spearman([1, 2], [5, 5])))

    def test_box_union_counts_whole_pixels(self):
        boxes = np.array(
            [
                [0.25, 0.25, 0.5, 0.75],
                [0.0, 0.0, 0.5, 0.5],
                [0.5, 0.5, 1.0, 1.0],
            ]
        )
        covered = spatial.box_union(boxes, [True, True, False], 8, 8)
        # Rows 2-3 x cols 2-5 and rows 0-3 x cols 0-3: 16 + 8 - 4 overlap.
        self.assertEqual(covered.sum(), 20)
        self.assertTrue(covered[3, 5] and covered[0, 0])
        self.assertFalse(covered[4, 4] or covered[3, 6])

    def test_energy_in_boxes_per_event_frame(self):
        heatmaps = np.zeros((4, 8, 8), np.float32)
        heatmaps[:, 0, 0] = 3.0  # In the box of frames 1 and 2.
        heatmaps[:, 7, 7] = 1.0  # Never in a box.
        boxes = np.zeros((4, 2, 4))
        boxes[:, 0] = [0.0, 0.0, 0.5, 0.5]  # 16 of 64 pixels.
        valid = np.zeros((4, 2), bool)
        valid[:3, 0] = True
        heatmaps[2] = 0.0  # A zero map: no share to take.
        shares = spatial.energy_in_boxes(heatmaps, [0, 1, 1, 1], boxes, valid)
        # Frame 0: outside the window; 3: no object; 2: all-zero map.
        self.assertEqual(shares, {"energy": [0.75], "area": [0.25]})
        records = [
            {
                "id": "a",
                "ground_truth": {
                    "event": [0, 1, 1, 1],
                    "boxes": boxes.tolist(),
                    "box_valid": valid.tolist(),
                },
            }
        ]
        pooled = spatial.pooled_energy(records, {"a": heatmaps})
        self.assertEqual(
            pooled, {"energy": 0.75, "area": 0.25, "ratio": 3.0, "frames": 1}
        )
        pooled = spatial.pooled_energy(records, {"a": heatmaps * 0})
        self.assertEqual(pooled["frames"], 0)
        self.assertTrue(math.isnan(pooled["ratio"]))

    def test_targets(self):
        result = {
            "mask_iou": {"difference": 0.2},
            "pointing_game": {"gradcam": 0.65, "centre": 0.5},
            "energy": {"energy": 0.2, "area": 0.1},
            "deletion": {"learned": 0.2, "random": 0.3},
            "sanity": {"spearman": None},
        }
        self.assertEqual(
            targets.targets(result),
            {
                "mask_iou": True,
                "pointing_game": True,
                "energy": True,
                "deletion": True,
                "sanity": None,
            },
        )
        result["mask_iou"]["difference"] = 0.19
        result["pointing_game"]["gradcam"] = 0.64
        result["energy"]["energy"] = 0.19
        result["sanity"]["spearman"] = 0.49
        self.assertEqual(
            targets.targets(result),
            {
                "mask_iou": False,
                "pointing_game": False,
                "energy": False,
                "deletion": True,
                "sanity": True,
            },
        )

    def test_missed_targets_say_what_to_try(self):
        result = {
            "layer": "Mixed_3c",
            "targets": {
                "mask_iou": True,
                "pointing_game": None,
                "energy": False,
                "deletion": False,
                "sanity": True,
            },
        }
        missed = targets.missed_targets(result)
        self.assertLen(missed, 2)
        self.assertStartsWith(
            missed[0],
            "energy: Grad-CAM at layer Mixed_3c "
            "puts under 2x the boxes' area share",
        )
        self.assertIn("see the layer table", missed[0])
        self.assertStartsWith(missed[1], "deletion: ")
        result["targets"] = dict.fromkeys(result["targets"], True)
        self.assertEqual(targets.missed_targets(result), [])


class ModelMeasuresTest(tf.test.TestCase):
    def test_deletion_and_insertion_of_the_frame_that_matters(self):
        high = 1 / (1 + math.exp(-4.0))  # Softmax of logits (4, 0).
        curves = interp.DeletionInsertion(flash_model(), "freeze", batch_size=3)
        # Freezing frame 2 repeats frame 1 (black): only frame 2 counts.
        deletion, insertion = curves(
            flash_video(), [[2, 0, 1, 3], [0, 1, 3, 2]], 0
        )
        self.assertAllClose(
            deletion,
            [[high, 0.5, 0.5, 0.5, 0.5], [high, high, high, high, 0.5]],
        )
        self.assertAllClose(
            insertion,
            [[0.5, high, high, high, high], [0.5, 0.5, 0.5, 0.5, high]],
        )
        self.assertLess(deletion[0].mean(), deletion[1].mean())
        self.assertAllClose(deletion[0].mean(), (high + 2) / 5)
        # Reversing every frame moves frame 2 to frame 1.
        deletion, insertion = interp.DeletionInsertion(
            flash_model(), "reverse"
        )(flash_video(), [[2, 0, 1, 3]], 0)
        self.assertAllClose([deletion[0, -1], insertion[0, 0]], [0.5, 0.5])
        with self.assertRaisesRegex(
            errors.InputError, "unknown perturbation 'blur'"
        ):
            interp.DeletionInsertion(flash_model(), "blur")

    def test_sanity_correlations(self):
        model = testing.tiny_model("clstm", frames=4, size=32, num_layers=2)
        videos = testing.tiny_videos(batch=2, frames=4, size=32)
        heatmaps = grad_cam.GradCAM(model)(videos, [0, 1]).numpy()
        heatmaps = heatmaps.astype(np.float16)
        self.assertAllClose(
            interp.sanity_correlations(heatmaps, model, videos, [0, 1]),
            [1.0, 1.0],
        )
        other = testing.tiny_model(
            "clstm", frames=4, size=32, num_layers=2, seed=1
        )
        correlations = interp.sanity_correlations(
            heatmaps, other, videos, [0, 1]
        )
        self.assertTrue(np.all(correlations < 0.99), correlations)


class FaithfulnessRunTest(testing.TrainedRunTestCase):
    @classmethod
    def configure(cls, config):
        config.model.num_layers = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.results_dir = explain.run(cls.config, cls.workdir, max_clips=4)[
            "output_dir"
        ]

    def copy_results(self, name):
        directory = os.path.join(self.get_temp_dir(), name)
        shutil.copytree(self.results_dir, directory)
        return directory

    def binary(self, *flags):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.faithfulness",
                "--config=configs/clstm_synthetic.py:smoke",
                f"--config.input.data_dir={self.data_dir}",
                "--config.model.num_layers=1",
                f"--workdir={self.workdir}",
                *flags,
            ],
            cwd=testing.REPO,
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            timeout=300,
        )

    def test_run_writes_every_measure(self):
        directory = self.copy_results("results")
        result = faithfulness.run(
            self.config, self.workdir, directory, random_orders=2
        )
        with open(os.path.join(directory, "faithfulness.json")) as f:
            self.assertEqual(json.load(f), result)
        with open(os.path.join(directory, "meta.json")) as f:
            classes = json.load(f)["classes"]
        with open(os.path.join(directory, "results.jsonl")) as f:
            records = [json.loads(line) for line in f]
        objects = [
            r
            for r in records
            if classes[r["label"]] not in synthetic.PAN_CLASSES
        ]
        self.assertNotEmpty(objects)
        self.assertEqual(
            (
                result["run"],
                result["model_name"],
                result["clips"],
                result["object_clips"],
                result["perturbation"],
            ),
            ("run", "clstm", 4, len(objects), "freeze"),
        )
        iou = result["mask_iou"]
        for value in (iou["learned"], iou["random"]):
            self.assertBetween(value, 0.0, 1.0)
        self.assertAllClose(
            iou["difference"], iou["learned"] - iou["random"], atol=2e-4
        )
        point = result["pointing_game"]
        # 32 px frames: 2 px tolerance. The spatial measures read the first
        # 48 clips of the split (the validation split here has 16), and
        # count the event frames with an object.
        self.assertEqual(point["tolerance_px"], 2)
        self.assertEqual(point["clips"], 16)
        self.assertGreater(point["frames"], 16)
        self.assertBetween(point["gradcam"], 0.0, 1.0)
        self.assertBetween(point["centre"], 0.0, 1.0)
        # One row per layer of the sweep (this one-layer C-LSTM has one
        # resolution, its explained layer), then the input gradient.
        self.assertEqual(result["layer"], "clstm_1")
        self.assertEqual(
            [(r["layer"], r["cells"]) for r in result["layers"]],
            [("clstm_1", [16, 16]), ("input_gradient", None)],
        )
        explained = result["layers"][0]
        self.assertEqual(
            (point["gradcam"], point["centre"]),
            (explained["pointing"], explained["centre"]),
        )
        self.assertEqual(
            result["energy"],
            {k: explained[k] for k in ("energy", "area", "ratio")},
        )
        for row in result["layers"]:
            self.assertBetween(row["energy"], 0.0, 1.0)
            self.assertAllClose(
                row["ratio"], row["energy"] / row["area"], rtol=1e-3
            )
            self.assertEqual(row["frames"], point["frames"])
        profile = result["time_profile"]
        self.assertBetween(profile["mass_inside"], 0.0, 1.0)
        self.assertAllClose(
            profile["window_fraction"],
            np.mean([np.mean(r["ground_truth"]["event"]) for r in objects]),
            atol=1e-4,
        )
        # Deletion's first and insertion's last point: the clip as played
        # (its stored uint8 frames), scored as explain scored it.
        played = np.mean([r["original_score"] for r in objects])
        for key in ("deletion", "insertion"):
            curves = result[key]
            self.assertLen(curves["learned_curve"], 9)
            self.assertAllClose(
                curves["learned"], np.mean(curves["learned_curve"]), atol=1e-3
            )
            self.assertBetween(curves["random"], 0.0, 1.0)
        self.assertAllClose(
            [
                result["deletion"]["learned_curve"][0],
                result["deletion"]["random_curve"][0],
                result["insertion"]["learned_curve"][-1],
            ],
            [played] * 3,
            atol=1e-2,
        )
        sanity = result["sanity"]
        self.assertEqual(sanity["clips"] + sanity["constant_maps"], 4)
        if sanity["clips"]:
            self.assertBetween(sanity["spearman"], -1.0, 1.0)
        self.assertEqual(
            set(result["targets"]),
            {"mask_iou", "pointing_game", "energy", "deletion", "sanity"},
        )
        for met in result["targets"].values():
            self.assertIn(met, (True, False, None))

    def test_run_refuses_bad_input(self):
        directory = self.copy_results("bad")
        config = self.config.copy_and_resolve_references()
        config.model_name = "i3d"
        with self.assertRaisesRegex(
            errors.InputError,
            r"holds a run of another config: model_name \(run: 'clstm', "
            "given: 'i3d'\\); leave out --config",
        ):
            faithfulness.run(config, self.workdir, directory)
        meta_file = os.path.join(directory, "meta.json")
        with open(meta_file) as f:
            meta = json.load(f)
        with open(meta_file, "w") as f:
            json.dump(dict(meta, step=1), f)
        with self.assertRaisesRegex(
            errors.InputError,
            "bad explains the checkpoint of step 1, the run's latest is of "
            "step 2; explain it again into another results directory$",
        ):
            faithfulness.run(None, self.workdir, directory)
        with self.assertRaisesRegex(
            errors.InputError, "random_orders must be >= 1"
        ):
            faithfulness.run(
                self.config, self.workdir, directory, random_orders=0
            )
        with self.assertRaisesRegex(
            errors.InputError, "spatial_clips must be >= 1"
        ):
            faithfulness.run(
                self.config, self.workdir, directory, spatial_clips=0
            )

    @pytest.mark.slow
    def test_binary_prints_the_table_with_and_without_ground_truth(self):
        result = self.binary("--random_orders=1")
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn("| Measure | Target | C-LSTM (run) |", result.stdout)
        self.assertIn("| Pointing game hit rate", result.stdout)
        self.assertIn(
            "| C-LSTM (run) | clstm_1 (explained) | 16x16 |", result.stdout
        )
        self.assertIn(
            f"Measures: {self.results_dir}/faithfulness.json", result.stdout
        )
        self.assertTrue(
            os.path.exists(os.path.join(self.results_dir, "faithfulness.json"))
        )

        directory = self.copy_results("no_truth")
        path = os.path.join(directory, "results.jsonl")
        with open(path) as f:
            records = [json.loads(line) for line in f]
        with open(path, "w") as f:
            f.writelines(
                json.dumps(dict(r, ground_truth=None)) + "\n" for r in records
            )
        result = self.binary(f"--results_dir={directory}")
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn(
            "| Pointing game hit rate at the explained layer; baseline: the "
            "frame centre | >= baseline + 0.15 | needs ground truth |  |  |",
            result.stdout,
        )
        self.assertIn("C-LSTM (run): no clip with ground truth", result.stdout)
        self.assertNotIn("| C-LSTM (run) | clstm_1", result.stdout)


if __name__ == "__main__":
    tf.test.main()
