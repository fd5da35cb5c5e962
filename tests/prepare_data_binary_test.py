"""Tests for binaries/prepare_data.py, run as a user runs it."""

import fcntl
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp.data import prepare
from tfvidinterp.data import prepare_state


def run_binary(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "binaries.prepare_data", *args],
        cwd=testing.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
class PrepareDataBinaryTest(tf.test.TestCase):
    def test_synthetic_dataset(self):
        out = os.path.join(self.get_temp_dir(), "synthetic")
        result = run_binary(
            f"--output_dir={out}",
            "--synthetic_clips=4,2,0",
            "--num_frames=6",
            "--image_size=24",
            "--num_shards=2",
            "--num_workers=0",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        info = prepare.read_info(out)
        self.assertEqual(info["source"], "synthetic")
        self.assertEqual(info["splits"]["train"]["num_clips"], 4)
        self.assertEqual(info["splits"]["validation"]["num_clips"], 2)
        self.assertNotIn("test", info["splits"])
        self.assertTrue(os.path.exists(f"{out}/train-00001-of-00002.tfrecord"))

    def test_odd_videos_with_workers_and_fractions(self):
        root = os.path.join(self.get_temp_dir(), "videos")
        out = os.path.join(self.get_temp_dir(), "out")
        testing.write_odd_videos(root)
        args = [
            f"--output_dir={out}",
            "--source=folder",
            f"--root={root}",
            "--short_side=16",
            "--num_workers=2",
            "--validation_fraction=0.4",
            "--test_fraction=0.3",
        ]
        # The hash puts one video in test, b/zero.avi, of 0 bytes.
        self.assertOneLineError(
            run_binary(*args),
            re.escape(
                "Split test has no video to decode: none of its 1 files is "
                "there (most often 'an empty file': 1), e.g. "
                f"{root}/b/zero.avi; prepare_data --check shows where"
            ),
        )
        self.assertFalse(os.path.exists(out))
        result = run_binary(*args, "--splits=train,validation")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        splits = prepare.read_info(out)["splits"]
        self.assertEqual(sum(s["num_clips"] for s in splits.values()), 4)
        self.assertEqual(sum(s["num_rejected"] for s in splits.values()), 3)
        with open(os.path.join(out, prepare.REJECTED_FILE)) as f:
            rejected = sorted(line.split("\t")[1] for line in f)
        names = sorted(set(testing.ODD_BAD) - {"b/zero.avi"})
        self.assertEqual(rejected, [os.path.join(root, n) for n in names])
        # Not a terminal: plain lines, then the warning of validation's
        # 3 rejections in 4.
        self.assertNotIn("\r", result.stdout)
        self.assertRegex(result.stdout, "^Prepared 7 of 7 videos ")
        self.assertIn(
            "WARNING: 1 split(s) lost more than 5% of their videos:\n"
            "  - validation: 3 of 4 videos rejected (75%), most often ",
            result.stdout,
        )

    def test_ssv2_as_downloaded_check_run_and_a_split_without_clips(self):
        root = os.path.join(self.get_temp_dir(), "ssv2")
        out = os.path.join(self.get_temp_dir(), "out")
        folder = testing.write_ssv2_official(root)
        args = [f"--output_dir={out}", "--source=ssv2", f"--root={root}"]
        result = run_binary(*args, "--check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertIn(
            f"  videos: {folder}, 5 of the 6 listed there", result.stdout
        )
        self.assertRegex(
            result.stdout,
            r"\ntotal +4 +0 +2 +1\n\nmissing in test: 1 .*\nsample: 5 videos ",
        )
        result = run_binary(*args)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            f"Clips in {out}: train 4, test 1 (1 rejected).", result.stdout
        )
        self.assertIn("  - test: 1 of 2 videos rejected (50%)", result.stdout)
        with open(os.path.join(folder, "201.webm"), "wb") as f:
            f.write(b"an interrupted download")
        other = os.path.join(self.get_temp_dir(), "other")
        self.assertOneLineError(
            run_binary(f"--output_dir={other}", *args[1:]),
            "Wrote no clip for split test: all 2 videos rejected, most often "
            f".*; see {re.escape(other)}/rejected.txt$",
        )

    def assertOneLineError(self, result, message):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        lines = [
            line
            for line in result.stderr.splitlines()
            if "prepare_data" in line
        ]
        self.assertLen(lines, 1, result.stderr)
        self.assertRegex(lines[0], f"^prepare_data.py: error: {message}")

    def test_bad_input_is_one_line_and_status_2(self):
        out = os.path.join(self.get_temp_dir(), "out")
        csv_path = os.path.join(self.get_temp_dir(), "list.csv")
        with open(csv_path, "wb") as f:
            f.write("path,label\ncaf\xe9.mp4,x\n".encode("latin-1"))
        for args, message in [
            (
                ["--num_shardz=3"],
                "Unknown command line flag 'num_shardz'. Did you mean: "
                "num_shards ?",
            ),
            (["--source=ssv2", "--root=/none"], "No such directory: /none"),
            (
                ["--source=folder", f"--root={csv_path}"],
                f"{csv_path}, line 2: not UTF-8 text",
            ),
            (
                ["--source=folder", f"--root={csv_path}", "--test_fraction=2"],
                "validation_fraction and test_fraction must lie in",
            ),
            (
                ["--validation_fraction=0.1"],
                "validation_fraction and test_fraction are options of the "
                "folder source only",
            ),
        ]:
            result = run_binary(f"--output_dir={out}", *args)
            self.assertOneLineError(result, re.escape(message))

    def test_a_second_run_into_one_directory_is_refused(self):
        out = os.path.join(self.get_temp_dir(), "out")
        lock = os.path.join(
            out, prepare_state.STATE_DIR, prepare_state.LOCK_FILE
        )
        os.makedirs(os.path.dirname(lock))
        with open(lock, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            result = run_binary(
                f"--output_dir={out}", "--synthetic_clips=2,0,0"
            )
        self.assertOneLineError(
            result, f"Another prepare_data is writing to {re.escape(out)} "
        )


if __name__ == "__main__":
    tf.test.main()
