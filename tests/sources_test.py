"""Tests for tfvidinterp.data.sources on tiny real dataset layouts."""

import collections
import json
import os

import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.data import sources
from tfvidinterp.data import video_io

SSV2_LABELS = {
    "Pushing something from left to right": "0",
    "Pushing something from right to left": "1",
    "Holding something": "2",
}
# id: (template, frames)
SSV2_TRAIN = {
    "101": ("Pushing [something] from left to right", 5),
    "102": ("Holding [something]", 7),
    "103": ("Pushing [something] from right to left", 4),
}
SSV2_VALIDATION = {"201": ("Holding [something]", 6)}
SPLITS_PRESENT = ("train", "validation", "test")


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def write_ssv2(root, validation=True):
    """Writes the official SSv2 layout: webm videos and the three JSONs."""
    splits = [("train", SSV2_TRAIN)]
    if validation:
        splits.append(("validation", SSV2_VALIDATION))
    for name, entries in splits:
        listing = []
        for video_id, (template, num_frames) in entries.items():
            testing.write_video(
                os.path.join(root, f"{video_id}.webm"), num_frames
            )
            listing.append(
                dict(id=video_id, label="x", template=template, placeholders=[])
            )
        write_json(
            os.path.join(root, f"something-something-v2-{name}.json"), listing
        )
    write_json(
        os.path.join(root, "something-something-v2-labels.json"), SSV2_LABELS
    )


class SyntheticSourceTest(tf.test.TestCase):
    def test_splits_counts_and_balanced_labels(self):
        source = sources.get("synthetic")
        options = dict(num_clips=(10, 0, 4), num_frames=8, image_size=32)
        described = source.describe(None, **options)
        self.assertEqual(described.splits, ("train", "test"))
        self.assertEqual(
            described.layout, ("videos: generated, train 10, test 4",)
        )
        self.assertEqual(described.classes[0], "left_to_right")
        train = list(source.items(None, "train", **options))
        counts = collections.Counter(item.label for item in train)
        self.assertEqual([counts[c] for c in range(6)], [2] * 4 + [1] * 2)
        self.assertEqual(train[0].metadata["background"], "smooth")
        pans = source.describe(None, camera=True, **options)
        self.assertEqual(pans.classes[6:], ("pan_left", "pan_right"))
        with self.assertRaisesRegex(
            errors.InputError, "Unknown synthetic background 'x'"
        ):
            source.describe(None, background="x", **options)
        self.assertEqual(train[3].label_text, described.classes[3])
        self.assertEqual(train[0].metadata["num_frames"], 8)
        self.assertIsNone(train[0].path)

    def test_seeds_are_deterministic_and_distinct_across_splits(self):
        source = sources.get("synthetic")

        def seeds(split, seed=0):
            items = source.items(None, split, num_clips="5,5,5", seed=seed)
            return [item.metadata["seed"] for item in items]

        all_seeds = seeds("train") + seeds("validation") + seeds("test")
        self.assertLen(set(all_seeds), 15)
        self.assertEqual(seeds("train"), seeds("train"))
        self.assertNotEqual(seeds("train"), seeds("train", seed=1))

    def test_bad_options(self):
        source = sources.get("synthetic")
        with self.assertRaisesRegex(errors.InputError, "three integers"):
            source.describe(None, num_clips="10,5")
        with self.assertRaisesRegex(errors.InputError, "takes no root"):
            source.describe("/data")
        with self.assertRaisesRegex(
            errors.InputError,
            r"Unknown source 'nope'; known: \['folder', 'kth', 'ssv2', 'synth",
        ):
            sources.get("nope")


class SSv2SourceTest(tf.test.TestCase, parameterized.TestCase):
    def test_labels_splits_and_frame_counts(self):
        root = self.get_temp_dir()
        write_ssv2(root)
        source = sources.get("ssv2")
        described = source.describe(root)
        self.assertEqual(described.classes, tuple(SSV2_LABELS))
        self.assertEqual(described.splits, ("train", "test"))
        train = list(source.items(root, "train"))
        self.assertEqual([item.id for item in train], ["101", "102", "103"])
        self.assertEqual([item.label for item in train], [0, 2, 1])
        self.assertEqual(train[1].label_text, "Holding something")
        self.assertEqual(train[0].path, os.path.join(root, "101.webm"))
        counts = [len(video_io.decode(item.path)) for item in train]
        self.assertEqual(counts, [5, 7, 4])
        test = list(source.items(root, "test"))
        self.assertEqual([(item.id, item.label) for item in test], [("201", 2)])
        self.assertEqual(
            described.layout[0], f"videos: {root}, 4 of the 4 listed there"
        )

    @parameterized.product(naming=["plain", "prefixed"], nested=[True, False])
    def test_official_layouts(self, naming, nested):
        root = self.get_temp_dir()
        folder = testing.write_ssv2_official(root, naming, nested)
        source = sources.get("ssv2")
        described = source.describe(root)
        self.assertEqual(described.classes, tuple(testing.SSV2_CLASSES))
        # test.json, without labels, is not taken for a split.
        self.assertEqual(described.splits, ("train", "test"))
        labels, pattern = testing.SSV2_NAMINGS[naming]

        def label_file(name):
            return os.path.join(root, labels, pattern.format(name))

        self.assertEqual(
            described.layout,
            (
                f"videos: {folder}, 5 of the 6 listed there",
                f"labels: {label_file('labels')}",
                f"train: {label_file('train')}, 4 videos",
                f"test: {label_file('validation')}, 2 videos (the official "
                "validation list)",
                f"not prepared: {label_file('test')}, 2 videos without "
                "labels (the official test list)",
            ),
        )
        train = list(source.items(root, "train"))
        self.assertEqual(
            [(item.id, item.label) for item in train],
            [("101", 0), ("102", 1), ("103", 2), ("104", 0)],
        )
        self.assertEqual(train[0].metadata["caption"], "Holding a pen")
        self.assertEqual(
            [len(video_io.decode(item.path)) for item in train], [6, 7, 8, 9]
        )
        test = list(source.items(root, "test"))
        self.assertEqual([item.id for item in test], ["201", "202"])
        self.assertTrue(os.path.isfile(test[0].path))
        self.assertEqual(test[1].path, os.path.join(folder, "202.webm"))
        self.assertFalse(os.path.exists(test[1].path))

    def test_a_list_without_labels_is_no_split(self):
        root = self.get_temp_dir()
        testing.write_ssv2_official(root)
        labels = os.path.join(root, "labels")
        # A user who took test.json for the validation list.
        os.replace(
            os.path.join(labels, "test.json"),
            os.path.join(labels, "validation.json"),
        )
        with self.assertRaisesRegex(
            errors.InputError,
            "validation.json: video 301 has no template: a list without "
            "labels, like the official test.json, cannot be a split",
        ):
            list(sources.get("ssv2").items(root, "test"))

    def test_videos_nowhere_says_where_it_looked(self):
        root = self.get_temp_dir()
        folder = testing.write_ssv2_official(root)
        os.rename(folder, os.path.join(root, "elsewhere"))
        with self.assertLogs(level="WARNING") as logs:
            described = sources.get("ssv2").describe(root)
        self.assertEqual(
            described.layout[0], f"videos: {root}, 0 of the 6 listed there"
        )
        self.assertIn(
            f"none of the 6 listed videos is in {root}", logs.output[0]
        )
        (item, *_) = sources.get("ssv2").items(root, "train")
        self.assertEqual(item.path, os.path.join(root, "101.webm"))

    def test_split_only_with_its_json_and_plain_names_in_labels_folder(self):
        root = self.get_temp_dir()
        os.makedirs(os.path.join(root, "labels"))
        write_json(os.path.join(root, "labels", "labels.json"), SSV2_LABELS)
        write_json(os.path.join(root, "labels", "train.json"), [])
        self.assertEqual(sources.get("ssv2").describe(root).splits, ("train",))

    def test_missing_root_labels_or_template(self):
        source = sources.get("ssv2")
        with self.assertRaisesRegex(errors.InputError, "needs a root"):
            source.describe(None)
        with self.assertRaisesRegex(errors.InputError, "No such directory"):
            source.describe("/no/such/dir")
        root = self.get_temp_dir()
        with self.assertRaisesRegex(
            errors.InputError,
            "No SSv2 label file \\(something-something-v2-labels.json or "
            f"labels.json\\) in {root} or {root}/labels",
        ):
            source.describe(root)
        write_json(os.path.join(root, "labels.json"), SSV2_LABELS)
        entry = dict(id="9", template="Dropping [something]")
        write_json(os.path.join(root, "train.json"), [entry])
        with self.assertRaisesRegex(errors.InputError, "9 has a template"):
            list(source.items(root, "train"))


class KTHSourceTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("paper", "paper", {"train": [1, 4, 11, 13], "test": [17, 22]}),
        (
            "official",
            "official",
            {"train": [11, 13, 17], "validation": [1, 4], "test": [22]},
        ),
    )
    def test_persons_in_splits(self, subject_split, expected):
        root = self.get_temp_dir()
        testing.write_kth(root)
        source = sources.get("kth")
        described = source.describe(root, subject_split=subject_split)
        self.assertEqual(described.splits, tuple(expected))
        for split, persons in expected.items():
            items = list(source.items(root, split, subject_split=subject_split))
            self.assertEqual([int(item.id[6:8]) for item in items], persons)
        first = next(source.items(root, "train", subject_split=subject_split))
        self.assertEqual(first.label_text, sources.KTH_CLASSES[first.label])

    def test_labels_from_names(self):
        root = self.get_temp_dir()
        testing.write_kth(root)
        items = list(sources.get("kth").items(root, "train"))
        self.assertEqual(
            [(item.id, item.label) for item in items],
            [
                ("person01_boxing_d1", 0),
                ("person04_walking_d2", 5),
                ("person11_running_d3", 4),
                ("person13_handclapping_d4", 1),
            ],
        )
        self.assertEqual(
            items[0].path,
            os.path.join(root, "boxing", "person01_boxing_d1_uncomp.avi"),
        )

    def test_only_the_known_absent_video_may_be_missing(self):
        root = self.get_temp_dir()
        names = [
            testing.kth_name(person, action, scenario)
            for person in range(1, 26)
            for action in sources.KTH_CLASSES
            for scenario in range(1, 5)
        ]
        names.remove("person13_handclapping_d3")
        for name in names:
            open(os.path.join(root, f"{name}_uncomp.avi"), "w").close()
        source = sources.get("kth")
        with self.assertNoLogs(level="WARNING"):
            train = list(source.items(root, "train"))
            layout = source.describe(root).layout
        self.assertEqual(
            layout[:2],
            (
                f"videos: 599 under {root}, in the root",
                "missing: only person13_handclapping_d3, absent from the "
                "release",
            ),
        )
        self.assertLen(train, 16 * 24 - 1)
        self.assertLen(list(source.items(root, "test")), 9 * 24)
        os.remove(os.path.join(root, f"{names[0]}_uncomp.avi"))
        with self.assertLogs(level="WARNING") as logs:
            source.describe(root)
        self.assertIn("1 videos missing", logs.output[0])

    def test_sub_sequences(self):
        root = self.get_temp_dir()
        testing.write_kth(
            root,
            sequences=[
                "person01_boxing_d1\t\tframes\t1-4, 5-9,10-12",
                "person02_boxing_d1\t\tframes\t1-40",
            ],
        )
        items = list(sources.get("kth").items(root, "train"))
        self.assertEqual(
            [(item.id, item.metadata.get("frames")) for item in items[:4]],
            [
                ("person01_boxing_d1_1", (1, 4)),
                ("person01_boxing_d1_2", (5, 9)),
                ("person01_boxing_d1_3", (10, 12)),
                ("person04_walking_d2", None),
            ],
        )

    def test_official_replica(self):
        root = self.get_temp_dir()
        testing.write_kth_official(root)
        source = sources.get("kth")
        described = source.describe(root)
        self.assertEqual(described.splits, ("train", "test"))
        self.assertEqual(
            described.layout,
            (
                f"videos: 3 under {root}, in boxing, handclapping, walking",
                "missing: 596 besides person13_handclapping_d3 (absent from "
                "the release), e.g. person01_boxing_d2",
                f"sub-sequences: {root}/00sequences.txt, 7 for the videos "
                "found (a video it does not list is one clip)",
            ),
        )
        for split, clips in testing.KTH_OFFICIAL_CLIPS.items():
            items = list(source.items(root, split))
            self.assertEqual([item.id for item in items], clips)
        items = list(source.items(root, "train"))
        self.assertEqual(
            [item.metadata["frames"] for item in items],
            [(1, 12), (13, 24), (1, 8), (9, 16), (17, 28)],
        )
        self.assertEqual(
            items[2].path,
            os.path.join(
                root, "handclapping", "person13_handclapping_d1_uncomp.avi"
            ),
        )
        ranges = sources.read_kth_sequences(f"{root}/00sequences.txt")
        self.assertEqual(
            ranges["person13_handclapping_d4"], [(1, 90), (91, 180)]
        )
        self.assertEqual(ranges["person22_walking_d2"], [(1, 15), (16, 30)])
        self.assertNotIn("person13_handclapping_d3", ranges)

    def test_bad_split_or_no_videos(self):
        source = sources.get("kth")
        root = self.get_temp_dir()
        with self.assertRaisesRegex(errors.InputError, "Unknown KTH split"):
            source.describe(root, subject_split="schuldt")
        with self.assertRaisesRegex(errors.InputError, "No KTH videos"):
            list(source.items(root, "train"))


class FolderSourceTest(tf.test.TestCase):
    def make_folders(self, root, layout):
        for path in layout:
            path = os.path.join(root, path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()

    def test_class_folders_and_hash_split(self):
        root = self.get_temp_dir()
        videos = [f"cats/{i}.mp4" for i in range(20)]
        videos += ["dogs/a.avi", "dogs/.hidden"]
        self.make_folders(root, videos)
        source = sources.get("folder")
        described = source.describe(root, test_fraction=0.0)
        self.assertEqual(described.classes, ("cats", "dogs"))
        self.assertEqual(described.splits, ("train",))
        self.assertEqual(described.layout, (f"videos: 21 videos under {root}",))
        items = list(source.items(root, "train", test_fraction=0.0))
        self.assertLen(items, 21)
        self.assertEqual((items[-1].id, items[-1].label), ("dogs/a.avi", 1))

        def ids(split):
            items = source.items(root, split, test_fraction=0.5)
            return {item.id for item in items}

        train, test = ids("train"), ids("test")
        self.assertEqual(train | test, {item.id for item in items})
        self.assertEmpty(train & test)
        self.assertBetween(len(test), 4, 17)  # 21 coin flips.
        self.assertEqual(ids("test"), test)

    def test_split_folders(self):
        root = self.get_temp_dir()
        self.make_folders(root, ["train/cats/a.mp4", "test/dogs/b.mp4"])
        source = sources.get("folder")
        described = source.describe(root)
        self.assertEqual(described.classes, ("cats", "dogs"))
        self.assertEqual(described.splits, ("train", "test"))
        (test,) = source.items(root, "test")
        self.assertEqual((test.id, test.label), ("test/dogs/b.mp4", 1))

    def test_csv(self):
        root = self.get_temp_dir()
        absolute = os.path.join(root, "elsewhere", "c.webm")
        with open(os.path.join(root, "list.csv"), "w") as f:
            f.write("path,label,split\nclips/a.mp4,run,train\n")
            f.write(f"{absolute},jump,test\n")
        csv_path = os.path.join(root, "list.csv")
        source = sources.get("folder")
        self.assertEqual(
            source.describe(csv_path),
            sources.Description(
                ("jump", "run"),
                ("train", "test"),
                (f"videos: 2 videos listed in {csv_path}",),
            ),
        )
        (train,) = source.items(csv_path, "train")
        self.assertEqual(train.path, os.path.join(root, "clips", "a.mp4"))
        self.assertEqual((train.label, train.label_text), (1, "run"))
        (test,) = source.items(csv_path, "test")
        self.assertEqual(test.path, absolute)

    def test_names_that_are_not_utf8(self):
        root = os.fsencode(self.get_temp_dir())
        for name in (b"caf\xe9/a.mp4", b"caf\xe9/b\xff.mp4", b"dogs/c.mp4"):
            os.makedirs(
                os.path.dirname(os.path.join(root, name)), exist_ok=True
            )
            open(os.path.join(root, name), "w").close()
        source = sources.get("folder")
        root = os.fsdecode(root)  # As the command line gives it.
        described = source.describe(root, test_fraction=0.0)
        self.assertEqual(described.classes, ("caf\\xe9", "dogs"))
        items = list(source.items(root, "train", test_fraction=0.0))
        self.assertEqual(
            [(item.id, item.label_text) for item in items],
            [
                ("caf\\xe9/a.mp4", "caf\\xe9"),
                ("caf\\xe9/b\\xff.mp4", "caf\\xe9"),
                ("dogs/c.mp4", "dogs"),
            ],
        )
        for item in items:
            item.id.encode("utf-8")  # Printable: TFRecords, reports, logs.
            self.assertTrue(os.path.isfile(item.path))

    def test_validation_and_test_fractions(self):
        root = self.get_temp_dir()
        self.make_folders(root, [f"cats/{i}.mp4" for i in range(40)])
        source = sources.get("folder")

        def ids(split, **fractions):
            return {item.id for item in source.items(root, split, **fractions)}

        fractions = dict(validation_fraction=0.3, test_fraction=0.3)
        self.assertEqual(
            source.describe(root, **fractions).splits, SPLITS_PRESENT
        )
        split_ids = {split: ids(split, **fractions) for split in SPLITS_PRESENT}
        self.assertLen(set.union(*split_ids.values()), 40)
        for count in map(len, split_ids.values()):
            self.assertBetween(count, 5, 20)  # 40 draws at 0.3, 0.3, 0.4.
        # The same path gets the same split; more validation moves no test
        # video, and the default puts none in validation.
        self.assertEqual(
            ids("validation", **fractions), split_ids["validation"]
        )
        self.assertEqual(
            ids("test", validation_fraction=0.5, test_fraction=0.3),
            split_ids["test"],
        )
        self.assertEqual(ids("test", test_fraction=0.3), split_ids["test"])
        self.assertEqual(source.describe(root).splits, ("train", "test"))
        for bad in [
            dict(test_fraction=-0.1),
            dict(validation_fraction=1.5),
            dict(validation_fraction=0.6, test_fraction=0.6),
            dict(test_fraction=float("nan")),
            dict(validation_fraction=-0.1, test_fraction=0.3),
        ]:
            with self.assertRaisesRegex(errors.InputError, "fraction"):
                source.describe(root, **bad)

    def test_csv_from_a_spreadsheet(self):
        path = os.path.join(self.get_temp_dir(), "list.csv")
        with open(path, "w", encoding="utf-8-sig") as f:
            f.write("path, label\r\nclips/a.mp4,run\r\nclips/b.mp4,jump\r\n")
        source = sources.get("folder")
        described = source.describe(path, test_fraction=0.0)
        self.assertEqual(described.classes, ("jump", "run"))
        self.assertEqual(described.splits, ("train",))
        items = source.items(path, "train", test_fraction=0.0)
        self.assertEqual(
            [item.id for item in items], ["clips/a.mp4", "clips/b.mp4"]
        )

    def test_csv_that_cannot_be_read_is_one_clear_error(self):
        path = os.path.join(self.get_temp_dir(), "list.csv")
        for content, message in [
            (
                "path,label\na.mp4,run\ncaf\xe9.mp4,run\n".encode("latin-1"),
                "list.csv, line 3: not UTF-8 text",
            ),
            (
                b"path,label,split\na.mp4,run\nb.mp4\n",
                "list.csv, line 3: a row needs a path and a label; this "
                "one has 1 field",
            ),
            (
                b"path,label\na.mp4,run,x\n",
                "list.csv, line 2: more fields than the header's 2",
            ),
            (b"path,label\na.mp4,\n", "list.csv, line 2: an empty label"),
            (  # An unclosed quote takes the rest of the file.
                b'path,label\n"a.mp4,run\nb.mp4,run\n',
                "list.csv, line 2: a row needs a path and a label",
            ),
        ]:
            with open(path, "wb") as f:
                f.write(content)
            with self.assertRaisesRegex(errors.InputError, message):
                sources.get("folder").describe(path)

    def test_bad_csv(self):
        path = os.path.join(self.get_temp_dir(), "bad.csv")
        with open(path, "w") as f:
            f.write("file,class\na.mp4,x\n")
        with self.assertRaisesRegex(errors.InputError, "columns path,label"):
            sources.get("folder").describe(path)
        with open(path, "w") as f:
            f.write("path,label,split\na.mp4,x,dev\n")
        with self.assertRaisesRegex(errors.InputError, "unknown split 'dev'"):
            sources.get("folder").describe(path)


if __name__ == "__main__":
    tf.test.main()
