"""Tests for binaries/prepare_data.py, run as a user runs it."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp.data import prepare


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

    def test_bad_input_is_one_line_and_status_2(self):
        out = os.path.join(self.get_temp_dir(), "out")
        for args, message in [
            (
                ["--num_shardz=3"],
                "Unknown command line flag 'num_shardz'. Did you mean: "
                "num_shards ?",
            ),
            (["--source=ssv2", "--root=/none"], "No such directory: /none"),
        ]:
            result = run_binary(f"--output_dir={out}", *args)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertNotIn("Traceback", result.stderr)
            lines = [
                line
                for line in result.stderr.splitlines()
                if "prepare_data" in line
            ]
            self.assertEqual(lines, [f"prepare_data.py: error: {message}"])


if __name__ == "__main__":
    tf.test.main()
