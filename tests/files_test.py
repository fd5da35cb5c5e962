"""Tests for tfvidinterp.files."""

import json
import os
import stat
from unittest import mock

import numpy as np
import tensorflow as tf

from tfvidinterp import files


class FilesTest(tf.test.TestCase):
    def test_write_json_round_trip_and_no_temporary_left(self):
        filename = os.path.join(self.get_temp_dir(), "json", "a.json")
        files.write_json(filename, {"b": 1, "a": [1.5, "x"]})
        with open(filename) as f:
            self.assertEqual(json.load(f), {"a": [1.5, "x"], "b": 1})
        self.assertEqual(os.listdir(os.path.dirname(filename)), ["a.json"])

    def test_write_atomic_keeps_the_old_file_when_writing_fails(self):
        filename = os.path.join(self.get_temp_dir(), "atomic", "a.txt")
        files.write_atomic(filename, "old")
        with mock.patch("os.replace", side_effect=OSError("disk full")):
            with self.assertRaises(OSError):
                files.write_atomic(filename, "new")
        with open(filename) as f:
            self.assertEqual(f.read(), "old")
        self.assertEqual(os.listdir(os.path.dirname(filename)), ["a.txt"])

    def test_written_files_get_the_umask_mode_not_0600(self):
        filename = os.path.join(self.get_temp_dir(), "mode", "a.txt")
        old = os.umask(0o022)
        try:
            files.write_atomic(filename, "x")
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(filename).st_mode), 0o644)

    def test_save_atomic_gives_save_a_path_ending_like_the_file(self):
        filename = os.path.join(self.get_temp_dir(), "save", "model.keras")
        seen = []

        def save(path):
            seen.append(path)
            with open(path, "w") as f:
                f.write("weights")

        files.save_atomic(filename, save)
        self.assertTrue(seen[0].endswith("-model.keras"))
        self.assertNotEqual(seen[0], filename)
        with self.assertRaises(ValueError):
            files.save_atomic(filename, lambda path: int("not a number"))
        with open(filename) as f:
            self.assertEqual(f.read(), "weights")
        self.assertEqual(os.listdir(os.path.dirname(filename)), ["model.keras"])

    def test_as_json(self):
        self.assertEqual(
            files.as_json({"a": (1, 2), 3: None}), {"a": [1, 2], "3": None}
        )

    def test_jsonable(self):
        value = {
            "a": np.float32(0.123456),
            "b": [np.int64(3), np.nan],
            "c": (float("inf"), "s", None, True),
        }
        plain = files.jsonable(value)
        self.assertEqual(plain["b"], [3, None])
        self.assertIsInstance(plain["b"][0], int)
        self.assertAlmostEqual(plain["a"], 0.123456, places=6)
        self.assertEqual(plain["c"], [None, "s", None, True])
        self.assertEqual(files.jsonable(value, digits=4)["a"], 0.1235)
        # Strict JSON: no NaN or Infinity tokens.
        json.dumps(plain, allow_nan=False)

    def test_safe_name_keeps_plain_names_and_separates_others(self):
        self.assertEqual(files.safe_name("clip_01.mp4"), "clip_01.mp4")
        self.assertRegex(files.safe_name("a b"), r"^a_b-[0-9a-f]{8}$")
        names = [
            "a b",
            "a_b-" + files.safe_name("a b")[-8:],
            "a:b",
            "..",
            "бег",
            "ход",
            "x" * 100,
            "x" * 101,
            "x" * 102,
            "a/b",
        ]
        safe = [files.safe_name(n) for n in names]
        self.assertLen(set(safe), len(names))
        for name in safe:
            self.assertLessEqual(len(name.encode()), 109)
            self.assertRegex(name, r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


if __name__ == "__main__":
    tf.test.main()
