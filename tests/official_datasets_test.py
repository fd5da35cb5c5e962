"""The paper's datasets as their official downloads unpack: replicas of the
SSv2 and KTH layouts, made at test time (`testing.write_ssv2_official`,
`testing.write_kth_official`), through `prepare_data`'s job: a run, the
errors of a split without a clip, and `--check`."""

import contextlib
import glob
import io
import os

import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import prepare
from tfvidinterp.data import prepare_state
from tfvidinterp.data import tfrecord
from tfvidinterp.jobs import prepare_data


def clip_ids(data_dir, split):
    """The sorted ids of the clips written for `split`."""
    paths = sorted(glob.glob(tfrecord.shard_pattern(data_dir, split)))
    return sorted(
        tfrecord.parse_example(serialized)["id"].numpy().decode()
        for serialized in tf.data.TFRecordDataset(paths)
    )


def run_job(*args, **kwargs):
    """`prepare_data.run`, returning its result and what it printed."""
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        result = prepare_data.run(*args, num_workers=0, **kwargs)
    return result, stdout.getvalue()


class SSv2Test(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "ssv2")
        self.out = os.path.join(self.get_temp_dir(), "data")
        self.folder = testing.write_ssv2_official(self.root)
        self.rejected = os.path.join(self.out, prepare.REJECTED_FILE)

    def test_a_run_finds_the_videos_and_reports_the_missing_one(self):
        info, printed = run_job("ssv2", self.out, root=self.root)
        self.assertEqual(
            info["splits"],
            dict(
                train=dict(num_clips=4, num_shards=4, num_rejected=0),
                test=dict(num_clips=1, num_shards=2, num_rejected=1),
            ),
        )
        self.assertEqual(clip_ids(self.out, "train"), list(testing.SSV2_TRAIN))
        self.assertEqual(clip_ids(self.out, "test"), ["201"])
        missing = os.path.join(self.folder, "202.webm")
        with open(self.rejected) as f:
            self.assertEqual(f.read(), f"test\t{missing}\tno such file\n")
        # One of two: more than REJECTED_SHARE, said at the end.
        warning = (
            "test: 1 of 2 videos rejected (50%), most often 'no such file': "
            f"1; see {self.rejected}"
        )
        self.assertEqual(info["run"]["warnings"], [warning])
        lines = printed.splitlines()
        self.assertRegex(lines[0], r"^Prepared 6 of 6 videos \(100%\) in ")
        self.assertEqual(
            lines[1:],
            [
                f"Clips in {self.out}: train 4, test 1 (1 rejected).",
                "",
                "!" * 72,
                "WARNING: 1 split(s) lost more than 5% of their videos:",
                f"  - {warning}",
                "!" * 72,
            ],
        )

    def test_check_lists_samples_and_estimates_writing_nothing(self):
        report, printed = run_job("ssv2", self.out, root=self.root, check=True)
        self.assertFalse(os.path.exists(self.out))
        train, test = report["splits"]["train"], report["splits"]["test"]
        self.assertEqual((train["videos"], train["missing"]), (4, 0))
        self.assertEqual(
            test["classes"],
            {
                "Holding something": [1, 1],
                "Pushing something from left to right": [0, 0],
                "Putting something on a surface": [1, 0],
            },
        )
        self.assertEqual(test["missing_reasons"], {"no such file": 1})
        self.assertEqual(train["sample"]["ids"], list(testing.SSV2_TRAIN))
        self.assertEqual(test["sample"]["ids"], ["201"])
        estimate = report["estimate"]
        self.assertEqual((estimate["videos"], estimate["clips"]), (5, 5))
        sizes = train["sample"]["bytes"] + test["sample"]["bytes"]
        self.assertAllClose(estimate["bytes"], sum(sizes))
        self.assertGreater(estimate["seconds"], 0)
        self.assertGreater(estimate["free_bytes"], 0)
        lines = printed.splitlines()
        self.assertEqual(
            lines[0], f"ssv2 under {self.root} (a check: nothing is written)"
        )
        self.assertEqual(
            lines[1], f"  videos: {self.folder}, 5 of the 6 listed there"
        )
        table = lines[lines.index("") + 1 :]
        self.assertEqual(
            table[:5],
            [
                "class                                   train  missing"
                "     test  missing",
                "Holding something                           2        0"
                "        1        1",
                "Pushing something from left to right        1        0"
                "        0        0",
                "Putting something on a surface              1        0"
                "        1        0",
                "total                                       4        0"
                "        2        1",
            ],
        )
        self.assertIn(
            "missing in test: 1 ('no such file': 1), e.g. "
            f"{self.folder}/202.webm",
            lines,
        )
        self.assertRegex(
            printed,
            r"\nsample: 5 videos made into clips as a run would, [\d.e-]+ s "
            r"each, [\d.]+ kB a clip; none rejected\nestimate: 5 videos to "
            r"decode into about 5 clips in about 0:00:00 with 1 worker, "
            r"[\d.]+ kB of TFRecords \([\d.]+ [kMGT]?B free\)\n"
            r"WARNING: test: 1 of 2 videos missing \(50%\)$",
        )

    def test_a_split_without_a_video_there_fails_before_decoding(self):
        os.rename(self.folder, os.path.join(self.root, "elsewhere"))
        with self.assertRaisesRegex(
            errors.InputError,
            r"^Split train has no video to decode: none of its 4 files is "
            r"there \(most often 'no such file': 4\), e\.g\. "
            f"{self.root}/10[1-4].webm; prepare_data --check shows where",
        ):
            run_job("ssv2", self.out, root=self.root)
        self.assertFalse(os.path.exists(self.out))
        report, printed = run_job("ssv2", self.out, root=self.root, check=True)
        self.assertIn(
            "WARNING: train has no video to decode: a run fails", printed
        )
        self.assertEqual(report["estimate"]["videos"], 0)

    def test_a_split_written_without_a_clip_is_an_error(self):
        damaged = os.path.join(self.folder, "201.webm")
        with open(damaged, "wb") as f:
            f.write(b"an interrupted download")
        with self.assertRaisesRegex(
            errors.InputError,
            r"^Wrote no clip for split test: all 2 videos rejected, most often "
            r"'(no such file|not a readable video[^']*)': 1; see "
            f"{self.rejected}$",
        ):
            run_job("ssv2", self.out, root=self.root)
        # The rest is written; the empty split is listed in rejected.txt
        # only, and its shards are gone, so that a re-run decodes it again.
        self.assertEqual(list(prepare.read_info(self.out)["splits"]), ["train"])
        with open(self.rejected) as f:
            self.assertEqual([line[:5] for line in f], ["test\t"] * 2)
        self.assertEmpty(glob.glob(tfrecord.shard_pattern(self.out, "test")))
        state = os.path.join(self.out, prepare_state.STATE_DIR)
        self.assertEmpty(glob.glob(os.path.join(state, "test-*")))
        testing.write_video(damaged, 5)  # Downloaded again.
        info, _ = run_job("ssv2", self.out, root=self.root)
        self.assertEqual(
            (info["run"]["shards_written"], info["run"]["shards_reused"]),
            (2, 4),
        )
        self.assertEqual(info["splits"]["test"]["num_clips"], 1)


class KTHTest(tf.test.TestCase):
    def test_per_action_folders_and_the_real_sequences_file(self):
        root = os.path.join(self.get_temp_dir(), "kth")
        out = os.path.join(self.get_temp_dir(), "data")
        testing.write_kth_official(root)
        report, printed = run_job("kth", out, root=root, check=True)
        self.assertFalse(os.path.exists(out))
        for split, clips in testing.KTH_OFFICIAL_CLIPS.items():
            found = report["splits"][split]
            self.assertEqual(
                (found["videos"], found["missing"]), (len(clips), 0)
            )
        self.assertEqual(report["splits"]["train"]["classes"]["boxing"], [2, 0])
        self.assertIn(
            "  missing: 596 besides person13_handclapping_d3 (absent from the "
            "release), e.g. person01_boxing_d2",
            printed.splitlines(),
        )
        self.assertIn("\nsample: 7 videos made into clips", printed)
        info, _ = run_job("kth", out, root=root, short_side=8)
        for split, clips in testing.KTH_OFFICIAL_CLIPS.items():
            self.assertEqual(clip_ids(out, split), clips)
            self.assertEqual(info["splits"][split]["num_rejected"], 0)
        self.assertEmpty(info["run"]["warnings"])


if __name__ == "__main__":
    tf.test.main()
