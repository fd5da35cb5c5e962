"""Tests for tfvidinterp.jobs.resultsdir."""

import json
import os
from unittest import mock

import numpy as np
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.jobs import resultsdir

META = {
    "run": "a",
    "model_name": "i3d",
    "dataset": "synthetic",
    "classes": ["x", "y"],
    "split": "validation",
    "params": {"lambda1": 0.01, "shape": (2, 3)},
}


def _write_lines(path, ids, tail=""):
    with open(path, "w") as f:
        f.write("".join(json.dumps({"id": i}) + "\n" for i in ids) + tail)


def _ids(path):
    with open(path) as f:
        return [json.loads(line)["id"] for line in f]


class ResultsTest(tf.test.TestCase):
    def test_gradcam_file_names_are_distinct(self):
        directory = self.get_temp_dir()
        ids = [
            "walk/a b.mp4",
            "walk/a_b.mp4",
            "walk_a b.mp4",
            "бег/1.mp4",
            "ход/1.mp4",
            "x" * 300,
            "x" * 301,
        ]
        names = [
            resultsdir.write_gradcam(
                directory,
                i,
                np.zeros((2, 1, 1)),
                np.zeros((2, 1, 1, 3), np.uint8),
            )
            for i in ids
        ]
        self.assertLen(set(names), len(ids))
        self.assertEqual(
            resultsdir.write_gradcam(
                directory,
                "x-1.y_Z",
                np.zeros((2, 1, 1)),
                np.zeros((2, 1, 1, 3), np.uint8),
            ),
            "gradcam/x-1.y_Z.npz",
        )

    def test_meta_refuses_other_parameters(self):
        directory = self.get_temp_dir()
        resultsdir.write_meta(directory, META)
        # Another run name, and tuples that JSON stored as lists, are fine.
        resultsdir.write_meta(directory, {**META, "run": "b"})
        with open(os.path.join(directory, resultsdir.META)) as f:
            self.assertEqual(json.load(f)["run"], "b")
        with self.assertRaisesRegex(
            errors.InputError,
            "holds results made with another split, params; choose",
        ):
            resultsdir.write_meta(
                directory,
                {**META, "split": "test", "params": {"lambda1": 0.02}},
            )

    def test_gradcam_round_trip(self):
        heatmaps = np.linspace(0, 1, 2 * 3 * 4).reshape(2, 3, 4)
        frames = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
        directory = self.get_temp_dir()
        file = resultsdir.write_gradcam(directory, "clip 1", heatmaps, frames)
        self.assertRegex(file, r"^gradcam/clip_1-[0-9a-f]{8}\.npz$")
        with np.load(os.path.join(directory, file)) as data:
            self.assertEqual(data["heatmaps"].dtype, np.float16)
        clip = resultsdir.read_gradcam(directory, {"gradcam": {"file": file}})
        self.assertAllClose(clip["heatmaps"], heatmaps, atol=1e-3)
        self.assertAllEqual(clip["frames"], frames)
        with self.assertRaisesRegex(errors.InputError, "cannot read Grad-CAM"):
            resultsdir.read_gradcam(directory, {"gradcam": {"file": "x.npz"}})

    def test_shard_files(self):
        self.assertEqual(
            resultsdir.shard_files("d"), ("d/results.jsonl", "d/results.done")
        )
        self.assertEqual(
            resultsdir.shard_files("d", 1, 3),
            ("d/results-1-of-3.jsonl", "d/results-1-of-3.done"),
        )

    def test_done_ids_cut_a_partial_last_line(self):
        path = os.path.join(self.get_temp_dir(), "r.jsonl")
        self.assertEqual(resultsdir.done_ids(path), set())
        _write_lines(path, ["a", "b"], tail='{"id": "c", "ma')
        self.assertEqual(resultsdir.done_ids(path), {"a", "b"})
        self.assertEqual(_ids(path), ["a", "b"])
        with open(path, "a") as f:
            resultsdir.append_records(f, [{"id": "c"}, {"id": "d"}])
        self.assertEqual(_ids(path), ["a", "b", "c", "d"])
        with open(path, "a") as f:
            f.write("[1, 2]\n")
        with self.assertRaisesRegex(
            errors.InputError, "line 5 is not a results record"
        ):
            resultsdir.done_ids(path)

    def test_records_are_strict_json(self):
        path = os.path.join(self.get_temp_dir(), "nan.jsonl")
        record = {
            "id": "a",
            "original_score": float("nan"),
            "mask": {"mask": [0.5, np.float32("inf")], "loss": -np.inf},
        }
        with open(path, "w") as f:
            resultsdir.append_records(f, [record])

        def refuse(constant):
            raise ValueError(f"not strict JSON: {constant}")

        with open(path) as f:
            [line] = f.readlines()
        self.assertEqual(
            json.loads(line, parse_constant=refuse),
            {
                "id": "a",
                "original_score": None,
                "mask": {"mask": [0.5, None], "loss": None},
            },
        )

    def test_resume_a_shard(self):
        directory = self.get_temp_dir()
        _write_lines(os.path.join(directory, resultsdir.RESULTS), ["a"])
        shard, marker = resultsdir.shard_files(directory, 1, 2)
        _write_lines(shard, ["b"])
        with open(marker, "w") as f:
            f.write("{}")
        self.assertEqual(
            resultsdir.resume(directory, 1, 2), (shard, marker, {"a", "b"})
        )
        self.assertFalse(os.path.exists(marker))
        # Alone, a worker's own file is all that counts.
        self.assertEqual(resultsdir.resume(directory)[2], {"a"})

    def test_worker_shard(self):
        self.assertEqual(resultsdir.worker_shard(), (0, 1))
        self.assertEqual(resultsdir.worker_shard(2, 4), (2, 4))
        for args, message in (
            ((1, None), "give both"),
            ((4, 4), r"shard_index 4 is not in \[0, 4\)"),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                resultsdir.worker_shard(*args)
        cluster = {"chief": ["c:1"], "worker": ["w:1", "w:2"]}
        for task, want in ((("chief", 0), (0, 3)), (("worker", 1), (2, 3))):
            config = {
                "cluster": cluster,
                "task": {"type": task[0], "index": task[1]},
            }
            with mock.patch.dict(os.environ, {"TF_CONFIG": json.dumps(config)}):
                self.assertEqual(resultsdir.worker_shard(), want)
        config = {"cluster": cluster, "task": {"type": "ps", "index": 0}}
        for value, message in (
            (json.dumps(config), "neither chief"),
            ("{", "not JSON"),
        ):
            with mock.patch.dict(os.environ, {"TF_CONFIG": value}):
                with self.assertRaisesRegex(errors.InputError, message):
                    resultsdir.worker_shard()

    def test_merge_shards_in_evaluation_order(self):
        directory = self.get_temp_dir()
        merged = os.path.join(directory, resultsdir.RESULTS)
        # Clips 0..4 went round-robin to 2 shards; clip 0 was merged
        # before, and shard 1 has a partial line after its last clip.
        _write_lines(merged, ["c0"])
        _write_lines(
            os.path.join(directory, "results-0-of-2.jsonl"), ["c0", "c2", "c4"]
        )
        _write_lines(
            os.path.join(directory, "results-1-of-2.jsonl"),
            ["c1", "c3"],
            tail='{"id": "c5"',
        )
        open(os.path.join(directory, "results-0-of-2.done"), "w").close()
        # Shard 1 has not finished: nothing merges yet.
        self.assertFalse(resultsdir.merge_shards(directory))
        self.assertEqual(_ids(merged), ["c0"])
        open(os.path.join(directory, "results-1-of-2.done"), "w").close()
        self.assertTrue(resultsdir.merge_shards(directory))
        self.assertEqual(_ids(merged), ["c0", "c1", "c2", "c3", "c4"])
        self.assertFalse(resultsdir.merge_shards(directory))
        self.assertEqual(_ids(merged), ["c0", "c1", "c2", "c3", "c4"])
        with self.assertRaisesRegex(errors.InputError, "no results dir"):
            resultsdir.merge_shards(os.path.join(directory, "none"))


if __name__ == "__main__":
    tf.test.main()
