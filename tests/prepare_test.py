"""Tests for tfvidinterp.data.prepare: real videos in, TFRecords read back."""

import contextlib
import fcntl
import glob
import io
import os
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import prepare
from tfvidinterp.data import prepare_progress
from tfvidinterp.data import prepare_state
from tfvidinterp.data import process_map
from tfvidinterp.data import sources
from tfvidinterp.data import synthetic
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_io
from tfvidinterp.jobs import prepare_data

GOOD = {  # id: (label, frames, stored height, stored width) at short side 16.
    "a/good.webm": (0, 6, 16, 21),
    "a/gray.mkv": (0, 5, 16, 21),
    "b/good.mp4": (1, 7, 16, 21),
    "b/odd.avi": (1, 4, 16, 19),
}
BAD = {  # id: what rejected.txt says about it.
    "a/noise.webm": "not a readable video",
    "b/cut.webm": "corrupt or truncated",
    "b/empty.avi": "the video has no frames",
}


def write_mix(root):
    """Class folders `a`, `b` with the good and the bad videos above."""
    write = testing.write_video
    write(os.path.join(root, "a", "good.webm"), 6)
    write(os.path.join(root, "b", "good.mp4"), 7)
    write(os.path.join(root, "b", "odd.avi"), 4, height=37, width=45)
    video_io.encode(
        os.path.join(root, "a", "gray.mkv"), np.full((5, 24, 32), 99, np.uint8)
    )
    video_io.encode(
        os.path.join(root, "b", "empty.avi"), np.zeros((0, 16, 16, 3), np.uint8)
    )
    with open(os.path.join(root, "a", "noise.webm"), "wb") as f:
        f.write(np.random.default_rng(0).bytes(3000))
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (12, 32, 32, 3), np.uint8)
    video_io.encode(os.path.join(root, "full.webm"), noise)
    with open(os.path.join(root, "full.webm"), "rb") as f:
        data = f.read()
    os.remove(os.path.join(root, "full.webm"))
    with open(os.path.join(root, "b", "cut.webm"), "wb") as f:
        f.write(data[: len(data) // 2])


def read_split(data_dir, split):
    """Returns {id: parsed example as numpy} of every clip in a split."""
    files = sorted(glob.glob(tfrecord.shard_pattern(data_dir, split)))
    clips = {}
    for serialized in tf.data.TFRecordDataset(files):
        example = tfrecord.parse_example(serialized)
        clip = {key: value.numpy() for key, value in example.items()}
        frames = tfrecord.decode_frames(example["frames_encoded"])
        clip["frames"] = frames.numpy()
        clips[clip["id"].decode()] = clip
    return clips


class PrepareTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "videos")
        self.out = os.path.join(self.get_temp_dir(), "dataset")

    def run_folder(self, out=None, num_workers=0, num_shards=2, short_side=16):
        return prepare.run(
            "folder",
            out or self.out,
            root=self.root,
            num_shards=num_shards,
            short_side=short_side,
            num_workers=num_workers,
            source_options=dict(test_fraction=0.0),
        )

    def test_bad_videos_are_rejected_and_the_rest_written(self):
        write_mix(self.root)
        info = self.run_folder()
        self.assertEqual(
            info["splits"],
            {"train": dict(num_clips=4, num_shards=2, num_rejected=3)},
        )
        self.assertEqual(info["classes"], ["a", "b"])
        self.assertEqual(info["run"]["shards_written"], 2)
        del info["run"]
        self.assertEqual(prepare.read_info(self.out), info)
        clips = read_split(self.out, "train")
        self.assertCountEqual(clips, GOOD)
        for clip_id, (label, count, height, width) in GOOD.items():
            clip = clips[clip_id]
            self.assertEqual(clip["label"], label)
            self.assertEqual(clip["label_text"].decode(), "ab"[label])
            self.assertEqual(clip["num_original_frames"], count)
            self.assertEqual(clip["frames"].shape, (count, height, width, 3))
            self.assertEqual(clip["event_start"], -1)
        self.assertAllClose(clips["a/gray.mkv"]["frames"].mean(), 99, atol=2)
        with open(os.path.join(self.out, prepare.REJECTED_FILE)) as f:
            lines = sorted(line.rstrip("\n").split("\t") for line in f)
        self.assertLen(lines, 3)
        for (split, path, reason), (clip_id, expected) in zip(
            lines, sorted(BAD.items())
        ):
            self.assertEqual(split, "train")
            self.assertEqual(path, os.path.join(self.root, clip_id))
            self.assertIn(expected, reason)

    def test_cap_and_kth_sub_sequences(self):
        testing.write_kth(
            self.root,
            sequences=["person01_boxing_d1\tframes\t1-4, 5-9, 10-12, 13-20"],
        )
        info = prepare.run(
            "kth", self.out, root=self.root, max_frames=3, num_workers=0
        )
        self.assertEqual(info["splits"]["train"]["num_rejected"], 1)
        clips = read_split(self.out, "train")
        self.assertCountEqual(
            clips,
            [
                "person01_boxing_d1_1",
                "person01_boxing_d1_2",
                "person01_boxing_d1_3",
                "person04_walking_d2",
                "person11_running_d3",
                "person13_handclapping_d4",
            ],
        )
        clip = clips["person01_boxing_d1_2"]  # Frames 5-9; level 10 (k - 1).
        self.assertEqual(clip["num_original_frames"], 5)
        # Segment middles of 5 frames in 3: frames 5, 7, 9.
        levels = clip["frames"].mean(axis=(1, 2, 3))
        self.assertAllClose(levels, [40, 60, 80], atol=4)
        whole = clips["person04_walking_d2"]
        self.assertEqual(whole["num_original_frames"], 12)
        self.assertLen(whole["frames"], 3)
        with open(os.path.join(self.out, prepare.REJECTED_FILE)) as f:
            self.assertIn("13-20 starts after the last of its 12", f.read())

    def test_synthetic_writes_ground_truth(self):
        options = dict(num_clips=(3, 0, 2), num_frames=8, image_size=32)
        info = prepare.run(
            "synthetic", self.out, num_workers=0, source_options=options
        )
        self.assertEqual(info["classes"], list(synthetic.CLASSES))
        self.assertEqual(set(info["splits"]), {"train", "test"})
        clips = read_split(self.out, "test")
        self.assertLen(clips, 2)
        items = sources.get("synthetic").items(None, "test", **options)
        for item in items:
            seed = item.metadata["seed"]
            expected = synthetic.generate_clip(seed, item.label, 8, 32)
            clip = clips[item.id]
            self.assertEqual(clip["label"], item.label)
            self.assertEqual(
                (clip["event_start"], clip["event_end"]), expected.window
            )
            self.assertAllEqual(clip["box_valid"], expected.box_valid)
            # JPEG at quality 95 keeps textures well above 30 dB.
            psnr = tf.image.psnr(clip["frames"], expected.frames, 255)
            self.assertGreater(tf.reduce_min(psnr), 30)

    def assertSameClips(self, data_dir, other_dir):
        clips = read_split(data_dir, "train")
        others = read_split(other_dir, "train")
        self.assertCountEqual(clips, others)
        for clip_id, clip in clips.items():
            for key, value in clip.items():
                self.assertAllEqual(value, others[clip_id][key])

    @pytest.mark.slow
    def test_resume_redoes_only_missing_shards_with_workers(self):
        write_mix(self.root)
        serial = os.path.join(self.get_temp_dir(), "serial")
        self.run_folder(out=serial)
        self.run_folder(num_workers=2)
        self.assertSameClips(self.out, serial)
        shards = sorted(glob.glob(tfrecord.shard_pattern(self.out, "train")))
        summaries = {}
        for name in (prepare.INFO_FILE, prepare.REJECTED_FILE):
            with open(os.path.join(self.out, name)) as f:
                summaries[name] = f.read()
        kept = os.stat(shards[0])
        os.remove(shards[1])  # An interrupted run: one shard half done,
        with open(f"{shards[1]}.tmp", "wb") as f:
            f.write(b"partial")
        for name in summaries:  # and no summary.
            os.remove(os.path.join(self.out, name))
        info = self.run_folder()
        self.assertEqual(info["run"]["shards_written"], 1)
        self.assertEqual(info["run"]["shards_reused"], 1)
        now = os.stat(shards[0])
        self.assertEqual(now.st_ino, kept.st_ino)
        self.assertEqual(now.st_mtime_ns, kept.st_mtime_ns)
        self.assertFalse(os.path.exists(f"{shards[1]}.tmp"))
        self.assertSameClips(self.out, serial)
        for name, text in summaries.items():
            with open(os.path.join(self.out, name)) as f:
                self.assertEqual(f.read(), text)

    def read_rejected(self):
        """rejected.txt as sorted `[split, what, reason]` lines."""
        with open(os.path.join(self.out, prepare.REJECTED_FILE)) as f:
            return sorted(line.rstrip("\n").split("\t") for line in f)

    def test_odd_videos_never_stop_a_run(self):
        testing.write_odd_videos(self.root)
        info = self.run_folder()
        counts = dict(num_clips=4, num_shards=2, num_rejected=4)
        self.assertEqual(info["splits"], {"train": counts})
        clips = read_split(self.out, "train")
        self.assertCountEqual(clips, testing.ODD_GOOD)
        for clip_id, (label, count, height, width) in testing.ODD_GOOD.items():
            clip = clips[clip_id]
            self.assertEqual(clip["label"], label)
            self.assertEqual(clip["num_original_frames"], count)
            self.assertEqual(clip["frames"].shape, (count, height, width, 3))
        levels = clips["a/resized.ts"]["frames"].mean(axis=(1, 2, 3))
        self.assertAllClose(levels, 20 * np.arange(9), atol=4)
        phone = clips["a/phone.mp4"]["frames"][0, ..., 0]  # Upright:
        self.assertGreater(phone[:8, :6].mean(), 200)  # white top-left.
        self.assertLess(phone[12:, 10:].mean(), 50)
        lines = self.read_rejected()
        self.assertEqual(
            [line[1] for line in lines],
            [os.path.join(self.root, name) for name in sorted(testing.ODD_BAD)],
        )
        for (split, _, reason), name in zip(lines, sorted(testing.ODD_BAD)):
            self.assertEqual(split, "train")
            self.assertIn(testing.ODD_BAD[name], reason)

    def test_any_failure_of_one_clip_is_a_rejection(self):
        write_mix(self.root)
        encode_example = tfrecord.encode_example

        def fail_on_odd(frames, label, label_text, clip_id, *args, **kwargs):
            if clip_id == "b/odd.avi":
                raise RuntimeError("an unforeseen\nfailure")
            return encode_example(
                frames, label, label_text, clip_id, *args, **kwargs
            )

        with mock.patch.object(tfrecord, "encode_example", fail_on_odd):
            info = self.run_folder()
        self.assertEqual(info["splits"]["train"]["num_rejected"], 4)
        self.assertIn(
            [
                "train",
                os.path.join(self.root, "b/odd.avi"),
                "RuntimeError: an unforeseen failure",
            ],
            self.read_rejected(),
        )

    def test_kth_frame_ranges_that_hold_no_frame_are_rejected(self):
        testing.write_kth(
            self.root,
            sequences=["person01_boxing_d1\tframes\t0-10, 3-5, 100-50"],
        )
        info = prepare.run("kth", self.out, root=self.root, num_workers=0)
        self.assertEqual(info["splits"]["train"]["num_rejected"], 2)
        clips = read_split(self.out, "train")
        self.assertEqual(
            sorted(clips)[0:2], ["person01_boxing_d1_2", "person04_walking_d2"]
        )
        for clip in clips.values():
            self.assertNotEmpty(clip["frames"])
        self.assertEqual(
            clips["person01_boxing_d1_2"]["num_original_frames"], 3
        )
        reasons = [line[2] for line in self.read_rejected()]
        for bad in ("0-10", "100-50"):
            self.assertIn(
                f"Bad frame range {bad}: frames are numbered from 1, and the "
                "first may not come after the last",
                reasons,
            )

    def test_a_second_writer_is_refused(self):
        write_mix(self.root)
        self.run_folder()
        lock = os.path.join(
            self.out, prepare_state.STATE_DIR, prepare_state.LOCK_FILE
        )
        with open(lock) as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with self.assertRaisesRegex(
                errors.InputError,
                f"^Another prepare_data is writing to {self.out} ",
            ):
                self.run_folder()
        self.assertEqual(self.run_folder()["run"]["shards_reused"], 2)

    def test_a_killed_runs_temporary_files_are_removed(self):
        write_mix(self.root)
        self.run_folder()
        shard = tfrecord.shard_path(self.out, "train", 0, 2)
        os.remove(shard)
        left = [
            f"{shard}.tmp",  # As written before temporary names were unique.
            os.path.join(self.out, ".tmp-x1y2-" + os.path.basename(shard)),
            os.path.join(
                self.out, prepare_state.STATE_DIR, ".tmp-z3-options.json"
            ),
        ]
        for path in left:
            with open(path, "wb") as f:
                f.write(b"partial")
        self.assertEqual(self.run_folder()["run"]["shards_written"], 1)
        for path in left:
            self.assertFalse(os.path.exists(path), path)
        names = os.listdir(self.out) + os.listdir(
            os.path.join(self.out, prepare_state.STATE_DIR)
        )
        self.assertEmpty([name for name in names if "tmp" in name])

    @pytest.mark.slow
    def test_a_worker_that_dies_costs_its_clip_only(self):
        results = process_map.map_in_order(
            testing.square_or_die, [1, 2, -3, 4, 5, -6, 7], 2, "died"
        )
        self.assertEqual(list(results), [1, 4, "died", 16, 25, "died", 49])

    def test_folder_fractions_through_the_job(self):
        testing.write_odd_videos(self.root)
        fractions = dict(validation_fraction=0.5, test_fraction=0.25)
        # The hash puts one video in test: b/zero.avi, of 0 bytes.
        with self.assertRaisesRegex(
            errors.InputError,
            "^Split test has no video to decode: none of its 1 files is "
            "there \\(most often 'an empty file': 1\\), e.g. .*zero.avi; "
            "prepare_data --check shows where the source looked$",
        ):
            prepare_data.run(
                "folder", self.out, root=self.root, num_workers=0, **fractions
            )
        info = prepare_data.run(
            "folder",
            self.out,
            root=self.root,
            splits=["train", "validation"],
            num_workers=0,
            **fractions,
        )
        self.assertEqual(
            info["options"]["source_options"],
            dict(validation_fraction=0.5, test_fraction=0.25),
        )
        # A hash of each path decides its split, as the source says.
        for split in sources.SPLITS:
            items = sources.get("folder").items(
                self.root, split, validation_fraction=0.5, test_fraction=0.25
            )
            good = {item.id for item in items} & set(testing.ODD_GOOD)
            self.assertEqual(set(read_split(self.out, split)), good)
        counts = {k: v["num_clips"] for k, v in info["splits"].items()}
        self.assertEqual(counts, dict(train=1, validation=3))
        other = os.path.join(self.get_temp_dir(), "defaults")
        info = prepare_data.run(
            "folder", other, root=self.root, splits=["train"], num_workers=0
        )
        # The defaults are left out: a directory prepared before the
        # fractions were options still resumes.
        self.assertEqual(info["options"]["source_options"], {})
        with self.assertRaisesRegex(errors.InputError, "folder source only"):
            prepare_data.run("synthetic", other, test_fraction=0.5)

    def test_refuses_to_mix_runs(self):
        write_mix(self.root)
        self.run_folder()
        with self.assertRaisesRegex(
            errors.InputError, r"other options \(short_side=16, not 24\)"
        ):
            self.run_folder(short_side=24)
        os.remove(
            os.path.join(self.out, prepare_state.STATE_DIR, "options.json")
        )
        with self.assertRaisesRegex(errors.InputError, "not part of this run"):
            self.run_folder(num_shards=3)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(errors.InputError, "Unknown split 'dev'"):
            prepare.run("synthetic", self.out, splits=["dev"])
        with self.assertRaisesRegex(errors.InputError, "at their size"):
            prepare.run("synthetic", self.out, short_side=32)
        with self.assertRaisesRegex(errors.InputError, "num_shards must be"):
            prepare.run("synthetic", self.out, num_shards=0)
        # A generated clip that fails is a bad option, not one odd video.
        options = dict(num_clips=(2, 0, 0), num_frames=0)
        with self.assertRaisesRegex(errors.InputError, "num_frames must be"):
            prepare.run(
                "synthetic", self.out, num_workers=0, source_options=options
            )
        with self.assertRaisesRegex(errors.InputError, "No such dataset"):
            prepare.read_info(os.path.join(self.get_temp_dir(), "none"))
        empty = os.path.join(self.get_temp_dir(), "empty")
        os.makedirs(empty)
        with self.assertRaisesRegex(errors.InputError, "No dataset_info.json"):
            prepare.read_info(empty)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class ProgressTest(tf.test.TestCase):
    def run_progress(self, stream, **kwargs):
        """30 videos of 2 MB at 3 s each, then a rejection."""
        now = [100.0]
        progress = prepare_progress.Progress(
            1000, stream, clock=lambda: now[0], **kwargs
        )
        for _ in range(30):
            now[0] += 3
            progress.add(2_000_000)
        now[0] += 3
        progress.add(rejected=True)
        progress.end()

    def test_plain_lines_when_stdout_is_not_a_terminal(self):
        stream = io.StringIO()
        self.run_progress(stream, interval=60)
        self.assertEqual(
            stream.getvalue().splitlines(),
            [
                # 20 videos in 60 s: 980 to go at 1/3 a second.
                "Prepared 20 of 1,000 videos (2%), 0.3 videos/s, 0:49:00 "
                "left, 40.0 MB written, 0 rejected",
                "Prepared 31 of 1,000 videos (3%) in 0:01:33, 0.3 videos/s, "
                "60.0 MB written, 1 rejected",
            ],
        )

    def test_one_line_redrawn_on_a_terminal(self):
        stream = _Terminal()
        self.run_progress(stream)
        text = stream.getvalue()
        self.assertEqual(text.count("\r"), 32)  # Each add, and the end.
        self.assertEqual(text.count("\n"), 1)
        self.assertTrue(text.endswith("1 rejected\033[K\n"))
        self.assertIn("\rPrepared 1 of 1,000 videos (0%), 0.3 videos/s, ", text)

    def test_a_real_run_prints_plain_lines(self):
        root = os.path.join(self.get_temp_dir(), "videos")
        write_mix(root)
        with contextlib.redirect_stdout(io.StringIO()) as stdout:
            prepare.run(
                "folder",
                os.path.join(self.get_temp_dir(), "out"),
                root=root,
                num_workers=0,
                source_options=dict(test_fraction=0.0),
            )
        self.assertRegex(
            stdout.getvalue(),
            r"^Prepared 7 of 7 videos \(100%\) in 0:00:\d\d, [\d.]+ "
            r"videos/s, [\d.]+ kB written, 3 rejected\n$",
        )

    def test_formats(self):
        self.assertEqual(prepare_progress.format_duration(None), "?")
        self.assertEqual(prepare_progress.format_duration(3725.4), "1:02:05")
        self.assertEqual(
            prepare_progress.format_duration(100 * 3600), "100:00:00"
        )
        self.assertEqual(prepare_progress.format_size(999), "999 B")
        self.assertEqual(prepare_progress.format_size(1000), "1.0 kB")
        self.assertEqual(prepare_progress.format_size(1.52e9), "1.5 GB")
        self.assertEqual(prepare_progress.format_size(2e15), "2000.0 TB")


if __name__ == "__main__":
    tf.test.main()
