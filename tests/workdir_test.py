"""Tests for tfvidinterp.workdir."""

import json
import os
from unittest import mock

import numpy as np
import tensorflow as tf

from tfvidinterp import workdir


class WorkdirTest(tf.test.TestCase):

    def test_write_json_round_trip_and_no_temporary_left(self):
        filename = os.path.join(self.get_temp_dir(), "json", "a.json")
        workdir.write_json(filename, {"b": 1, "a": [1.5, "x"]})
        with open(filename) as f:
            self.assertEqual(json.load(f), {"a": [1.5, "x"], "b": 1})
        self.assertEqual(os.listdir(os.path.dirname(filename)), ["a.json"])

    def test_write_atomic_keeps_the_old_file_when_writing_fails(self):
        filename = os.path.join(self.get_temp_dir(), "atomic", "a.txt")
        workdir.write_atomic(filename, "old")
        with mock.patch("os.replace", side_effect=OSError("disk full")):
            with self.assertRaises(OSError):
                workdir.write_atomic(filename, "new")
        with open(filename) as f:
            self.assertEqual(f.read(), "old")
        self.assertEqual(os.listdir(os.path.dirname(filename)), ["a.txt"])

    def test_jsonable(self):
        value = {"a": np.float32(0.123456), "b": [np.int64(3), np.nan],
                 "c": (float("inf"), "s", None, True)}
        plain = workdir.jsonable(value)
        self.assertEqual(plain["b"], [3, None])
        self.assertIsInstance(plain["b"][0], int)
        self.assertAlmostEqual(plain["a"], 0.123456, places=6)
        self.assertEqual(plain["c"], [None, "s", None, True])
        self.assertEqual(workdir.jsonable(value, digits=4)["a"], 0.1235)
        # Strict JSON: no NaN or Infinity tokens.
        json.dumps(plain, allow_nan=False)


if __name__ == "__main__":
    tf.test.main()
