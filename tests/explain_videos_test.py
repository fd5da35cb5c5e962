"""Tests for explaining video files in batches (`explain.run(videos=...)`,
`binaries.explain --videos`), and faithfulness and compare on their
results, which have no ground truth."""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import video_io
from tfvidinterp.jobs import compare
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import resultsdir

FRAMES, SIZE = 8, 32


def write_videos(root):
    """Three real videos, two of one name, and a file that is no video;
    returns their paths in listing order."""
    levels = 10 + 12 * np.arange(16)[:, None, None, None]
    clip = (levels + np.zeros((16, 40, 48, 3))).astype(np.uint8)
    paths = [
        os.path.join(root, name)
        for name in ("a/clip.mp4", "b/clip.mp4", "broken.mp4", "c/d/x.avi")
    ]
    for path, offset in zip(paths, (0, 40, None, 20)):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if offset is None:
            with open(path, "wb") as f:
                f.write(os.urandom(2000))
        else:
            video_io.encode(path, clip + offset)
    return paths


class ExplainVideosTest(testing.TrainedRunTestCase):
    @classmethod
    def configure(cls, config):
        config.model.num_layers = 1
        config.interp.batch_size = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.videos = os.path.join(cls.root, "my videos")
        cls.paths = write_videos(cls.videos)
        cls.explainer = explain.load_explainer(cls.config, cls.workdir)
        cls.first = cls.explain(cls.videos)

    @classmethod
    def explain(cls, spec, config=None, **options):
        return explain.run(
            config or cls.config,
            cls.workdir,
            videos=spec,
            explainer=cls.explainer,
            **options,
        )

    def test_videos_are_explained_in_one_run_and_bad_ones_reported(self):
        a, b, broken, c = self.paths
        summary, directory = self.first, self.first["output_dir"]
        self.assertEqual(
            directory, os.path.join(self.workdir, "explain/videos")
        )
        self.assertEqual((summary["clips"], summary["skipped"]), (3, 0))
        [rejected] = summary["rejected"]
        self.assertEqual(rejected["path"], broken)
        self.assertStartsWith(rejected["reason"], "not a readable video: ")
        with open(os.path.join(directory, "rejected.txt")) as f:
            self.assertEqual(f.read(), f"{broken}\t{rejected['reason']}\n")
        records = testing.read_records(directory)
        self.assertEqual(
            [r["id"] for r in records], [os.path.realpath(p) for p in (a, b, c)]
        )
        self.assertLen({r["gradcam"]["file"] for r in records}, 3)
        for record, offset in zip(records, (0, 40, 20)):
            self.assertIsNone(record["label"])
            self.assertIsNone(record["split"])
            self.assertIsNone(record["ground_truth"])
            self.assertLen(record["mask"]["mask"], FRAMES)
            frames = resultsdir.read_gradcam(directory, record)["frames"]
            self.assertEqual(frames.shape, (FRAMES, SIZE, SIZE, 3))
            # Frames 1, 3, ..., 15 of 16, as --video samples them (24
            # levels apart; MPEG-4 in the .avi is lossier than H.264).
            self.assertAllClose(
                frames.mean(axis=(1, 2, 3)),
                10 + offset + 12 * np.arange(1, 16, 2),
                atol=6,
            )
        with open(os.path.join(directory, "meta.json")) as f:
            self.assertIsNone(json.load(f)["split"])

    def test_a_rerun_skips_finished_videos_and_an_interrupted_one_resumes(
        self,
    ):
        directory = os.path.join(self.get_temp_dir(), "resumed")
        glob = os.path.join(self.videos, "**", "*.*")
        first = self.explain(glob, output_dir=directory, max_clips=2)
        self.assertEqual((first["clips"], first["skipped"]), (2, 0))
        again = self.explain(glob, output_dir=directory)
        self.assertEqual((again["clips"], again["skipped"]), (1, 2))
        self.assertLen(again["rejected"], 1)
        path = os.path.join(directory, "results.jsonl")
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:  # A kill in the middle of line 2.
            f.write(lines[0] + lines[1][:40])
        resumed = self.explain(glob, output_dir=directory)
        self.assertEqual((resumed["clips"], resumed["skipped"]), (2, 1))
        self.assertEqual(
            [r["id"] for r in testing.read_records(directory)],
            [r["id"] for r in testing.read_records(self.first["output_dir"])],
        )

    def test_the_progress_bar_and_summary_count_rejected_files(self):
        directory = os.path.join(self.get_temp_dir(), "counted")
        for explained, done_before in ((3, 0), (0, 3)):
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                summary = self.explain(self.videos, output_dir=directory)
            # The bar's last state: every file attempted, the broken one too.
            bars = re.findall(r"(\d+)/(\d+)(?!\d)", output.getvalue())
            self.assertEqual(bars[-1], ("4", "4"))
            self.assertEqual(
                explain.summary_line(summary),
                f"4 clips: {explained} explained, {done_before} done before, "
                f"1 rejected, listed in {directory}/rejected.txt",
            )
        summary = self.explain(self.paths[0], output_dir=directory)
        self.assertEqual(
            explain.summary_line(summary), "1 clips: 0 explained, 1 done before"
        )

    def test_a_csv_gives_labels(self):
        a, _, _, c = self.paths
        csv_path = os.path.join(self.root, "videos.csv")
        with open(csv_path, "w") as f:
            f.write(f"path,label\n{a},moving_up\n{c},\n")
        directory = os.path.join(self.get_temp_dir(), "csv")
        summary = self.explain(csv_path, output_dir=directory)
        self.assertEqual((summary["clips"], summary["rejected"]), (2, []))
        first, second = testing.read_records(directory)
        self.assertEqual(first["label"], 2)  # moving_up's index.
        self.assertGreater(first["true_class_score"], 0)
        self.assertIsNone(second["label"])
        self.assertFalse(
            os.path.exists(os.path.join(directory, "rejected.txt"))
        )
        config = self.config.copy_and_resolve_references()
        config.interp.target = "true"
        with self.assertRaisesRegex(
            errors.InputError,
            "interp.target 'true' needs a label for every video; 1 have none",
        ):
            self.explain(csv_path, config)
        with open(csv_path, "w") as f:
            f.write(f"path,label\n{a},dancing\n")
        with self.assertRaisesRegex(
            errors.InputError, "labels not among the model's classes: dancing"
        ):
            self.explain(csv_path)
        with self.assertRaisesRegex(errors.InputError, "not two of them"):
            self.explain(csv_path, split="test")

    def test_compare_renders_the_results(self):
        out = os.path.join(self.get_temp_dir(), "report")
        stats = compare.run(
            [self.first["output_dir"]],
            out,
            testing.load_config("configs/compare.py"),
        )
        self.assertEqual(stats["models"][0]["num_clips"], 3)
        self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
        self.assertLen(os.listdir(os.path.join(out, "gifs")), 3)

    def test_faithfulness_reports_what_needs_no_ground_truth(self):
        directory = os.path.join(self.get_temp_dir(), "faithful")
        shutil.copytree(self.first["output_dir"], directory)
        result = faithfulness.run(
            None, self.workdir, directory, random_orders=2
        )
        with open(os.path.join(directory, "faithfulness.json")) as f:
            self.assertEqual(json.load(f), result)
        self.assertEqual(
            result["needs_ground_truth"],
            ["mask_iou", "pointing_game", "energy", "time_profile", "layers"],
        )
        self.assertEqual(
            [result[k] for k in ("explained_clips", "clips", "curve_clips")],
            [3, 0, 3],
        )
        self.assertEqual(set(result["mask_iou"].values()), {None})
        self.assertEqual(set(result["pointing_game"].values()), {None})
        self.assertEqual(result["layers"], [])
        for key in ("deletion", "insertion"):
            curves = result[key]
            self.assertLen(curves["learned_curve"], FRAMES + 1)
            self.assertLen(curves["random_curve"], FRAMES + 1)
            # An area is the mean of its curve's T + 1 probabilities.
            self.assertAllClose(
                curves["learned"], np.mean(curves["learned_curve"]), atol=1e-3
            )
            self.assertAllInRange(curves["learned_curve"], 0, 1)
        # All frames perturbed: the deletion curve ends where insertion
        # starts (the same clip), and the other way round.
        deletion, insertion = result["deletion"], result["insertion"]
        self.assertAllClose(
            deletion["learned_curve"][-1],
            insertion["learned_curve"][0],
            atol=1e-3,
        )
        self.assertEqual(result["sanity"]["clips"], 3)
        targets = result["targets"]
        self.assertEqual(
            [targets[k] for k in ("mask_iou", "pointing_game", "energy")],
            [None, None, None],
        )
        self.assertIsInstance(targets["deletion"], bool)
        text = faithfulness.summary_text(result)
        self.assertIn(
            "| Mask IoU with the event window; baseline: a run of the same "
            "length placed at random | >= baseline + 0.2 | needs ground "
            "truth |  |  |",
            text,
        )
        self.assertIn("no clip with ground truth; deletion and insertion", text)
        self.assertNotIn("Grad-CAM layer by layer", text)
        out = os.path.join(self.get_temp_dir(), "report")
        compare.run([directory], out, testing.load_config("configs/compare.py"))
        with open(os.path.join(out, "tables", "faithfulness.csv")) as f:
            self.assertEqual(f.read().count("needs ground truth"), 5)

    @pytest.mark.slow
    def test_binary_explains_a_directory(self):
        output_dir = os.path.join(self.get_temp_dir(), "binary")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "binaries.explain",
                f"--workdir={self.workdir}",
                f"--videos={self.videos}",
                f"--output_dir={output_dir}",
                "--max_clips=2",
            ],
            cwd=testing.REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        summary = json.loads(result.stdout[result.stdout.index("{") :])
        self.assertEqual(summary["clips"], 2)
        self.assertIn("\n2 clips: 2 explained, 0 done before\n{", result.stdout)
        self.assertLen(testing.read_records(output_dir), 2)


if __name__ == "__main__":
    tf.test.main()
