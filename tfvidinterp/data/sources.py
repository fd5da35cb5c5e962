"""Where videos come from: each source lists its classes, splits and videos.

A source is a pair of functions, `describe(root, **options) -> Description`
and `items(root, split, **options) -> Iterator[VideoItem]`, looked up by name
in `SOURCES`. Listing is cheap (file names and label files); decoding is left
to `prepare`.
"""

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
from collections import abc

import numpy as np
from absl import logging

from tfvidinterp import errors
from tfvidinterp.data import synthetic

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class VideoItem:
    """One clip to prepare.

    Attributes:
        id: Unique id within the source (`clip/id`).
        label: Class index into the source's classes.
        label_text: Class name.
        path: The video file, or None for a clip generated from `metadata`
            (synthetic).
        metadata: Source-specific facts: `frames` (first, last), 1-based
            inclusive, for a KTH sub-sequence; `seed`, `num_frames`,
            `image_size`, `background`, `camera` for a synthetic clip;
            `caption` (the filled-in template) for SSv2.
    """

    id: str
    label: int
    label_text: str
    path: str | None
    metadata: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Description:
    """What a source holds.

    Attributes:
        classes: Class names; the index is the label.
        splits: Split names.
        layout: Lines saying which files the source found and reads
            (`prepare_data` logs them, `--check` prints them), so that a
            wrong root or an unexpected layout shows before decoding.
    """

    classes: tuple
    splits: tuple
    layout: tuple = ()


@dataclasses.dataclass(frozen=True)
class Source:
    """A source's two functions; see the module docstring."""

    describe: abc.Callable[..., Description]
    items: abc.Callable[..., abc.Iterator[VideoItem]]


# === synthetic ===


def _synthetic_counts(num_clips):
    values = num_clips.split(",") if isinstance(num_clips, str) else num_clips
    try:
        counts = tuple(int(count) for count in values)
    except (TypeError, ValueError):
        counts = ()
    if len(counts) != 3 or min(counts) < 0:
        raise errors.InputError(
            "Synthetic clip counts must be three integers >= 0 (train, "
            f"validation, test), got {num_clips!r}"
        )
    return dict(zip(SPLITS, counts))


def _synthetic_describe(
    root=None,
    num_clips=(800, 200, 200),
    num_frames=16,
    image_size=64,
    seed=0,
    background="smooth",
    camera=False,
):
    if root is not None:
        raise errors.InputError("The synthetic source takes no root")
    if background not in synthetic.BACKGROUNDS:
        raise errors.InputError(
            f"Unknown synthetic background {background!r}; one of "
            f"{', '.join(synthetic.BACKGROUNDS)}"
        )
    counts = _synthetic_counts(num_clips)
    splits = tuple(split for split in SPLITS if counts[split])
    generated = ", ".join(f"{split} {counts[split]:,}" for split in splits)
    layout = (f"videos: generated, {generated}",)
    return Description(synthetic.class_names(camera), splits, layout)


def _synthetic_items(
    root,
    split,
    num_clips=(800, 200, 200),
    num_frames=16,
    image_size=64,
    seed=0,
    background="smooth",
    camera=False,
):
    """Yields balanced labels; clip seeds hash (seed, split, index)."""
    del root  # Checked by describe.
    classes = synthetic.class_names(camera)
    for index in range(_synthetic_counts(num_clips)[split]):
        # Distinct 64-bit seeds keep the splits from sharing clips.
        entropy = [seed, SPLITS.index(split), index]
        clip_seed = np.random.SeedSequence(entropy).generate_state(1, np.uint64)
        label = index % len(classes)
        yield VideoItem(
            id=f"synthetic-{split}-{index:06d}",
            label=label,
            label_text=classes[label],
            path=None,
            metadata=dict(
                seed=int(clip_seed[0]),
                num_frames=num_frames,
                image_size=image_size,
                background=background,
                camera=bool(camera),
            ),
        )


# === ssv2 ===

# The folder the official video archives unpack to; the videos may also lie
# in the root itself.
SSV2_VIDEO_FOLDER = "20bn-something-something-v2"
# Split -> the official list it comes from. The validation list is the test
# split: the official test list (`test.json`) has no labels.
_SSV2_SPLIT_FILES = {"train": "train", "test": "validation"}


def _ssv2_file(root, name):
    """Finds an official label file, as shipped in either download."""
    _check_root(root, "ssv2")
    for folder in (root, os.path.join(root, "labels")):
        for prefix in ("something-something-v2-", ""):
            path = os.path.join(folder, f"{prefix}{name}.json")
            if os.path.isfile(path):
                return path
    return None


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"Cannot read {path}: {error}") from error


def _ssv2_labels(root):
    path = _ssv2_file(root, "labels")
    if path is None:
        raise errors.InputError(
            "No SSv2 label file (something-something-v2-labels.json or "
            f"labels.json) in {root} or {os.path.join(root, 'labels')}"
        )
    index_of = {
        template: int(index) for template, index in _read_json(path).items()
    }
    classes = [None] * len(index_of)
    for template, index in index_of.items():
        if 0 <= index < len(classes):
            classes[index] = template
    if None in classes:
        raise errors.InputError(f"{path}: class indices are not 0..N-1")
    return classes, index_of, path


def _ssv2_list(path):
    """The entries of an official video list: dicts with at least an id."""
    entries = _read_json(path)
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and "id" in entry for entry in entries
    ):
        raise errors.InputError(
            f"{path}: not an SSv2 video list (a JSON list of objects with "
            "an id)"
        )
    return entries


def _ssv2_video_folder(root):
    """The folder the videos were unpacked to: see `SSV2_VIDEO_FOLDER`.

    The official archives unpack to `SSV2_VIDEO_FOLDER`; a user may have
    moved the videos up into the root. The first of the two that holds a
    `.webm` file wins, else the nested one if it exists, else the root (a
    run then rejects every video as missing, and says where it looked).
    """
    nested = os.path.join(root, SSV2_VIDEO_FOLDER)
    for folder in (nested, root):
        if os.path.isdir(folder):
            with os.scandir(folder) as found:
                if any(entry.name.endswith(".webm") for entry in found):
                    return folder
    return nested if os.path.isdir(nested) else root


def _ssv2_describe(root=None):
    classes, _, labels = _ssv2_labels(root)
    splits = tuple(
        split
        for split, name in _SSV2_SPLIT_FILES.items()
        if _ssv2_file(root, name) is not None
    )
    return Description(tuple(classes), splits, _ssv2_layout(root, labels))


def _ssv2_layout(root, labels):
    """Lines saying which files the source reads, and how many are there."""
    folder = _ssv2_video_folder(root)
    with os.scandir(folder) as found:
        names = {entry.name for entry in found}
    lines, listed, present = [f"labels: {labels}"], 0, 0
    for split, name in _SSV2_SPLIT_FILES.items():
        path = _ssv2_file(root, name)
        if path is not None:
            ids = [str(entry["id"]) for entry in _ssv2_list(path)]
            listed += len(ids)
            present += sum(f"{video}.webm" in names for video in ids)
            what = " (the official validation list)" * (split == "test")
            lines.append(f"{split}: {path}, {_videos(len(ids))}{what}")
    unlabelled = _ssv2_file(root, "test")
    if unlabelled is not None:
        count = len(_ssv2_list(unlabelled))
        lines.append(
            f"not prepared: {unlabelled}, {_videos(count)} without labels "
            "(the official test list)"
        )
    lines.insert(
        0, f"videos: {folder}, {present:,} of the {listed:,} listed there"
    )
    if listed and not present:
        logging.warning(
            "SSv2: none of the %d listed videos is in %s", listed, folder
        )
    return tuple(lines)


def _ssv2_items(root, split):
    classes, index_of, _ = _ssv2_labels(root)
    path = _ssv2_file(root, _SSV2_SPLIT_FILES[split])
    folder = _ssv2_video_folder(root)
    for entry in _ssv2_list(path):
        if "template" not in entry:
            raise errors.InputError(
                f"{path}: video {entry['id']} has no template: a list "
                "without labels, like the official test.json, cannot be "
                "a split"
            )
        template = entry["template"].replace("[", "").replace("]", "")
        if template not in index_of:
            raise errors.InputError(
                f"{path}: video {entry['id']} has a template that is not in "
                f"the labels file: {template!r}"
            )
        label = index_of[template]
        yield VideoItem(
            id=str(entry["id"]),
            label=label,
            label_text=classes[label],
            path=os.path.join(folder, f"{entry['id']}.webm"),
            metadata=dict(caption=entry.get("label", "")),
        )


# === kth ===

KTH_CLASSES = (
    "boxing",
    "handclapping",
    "handwaving",
    "jogging",
    "running",
    "walking",
)
# Persons per split. `paper`: the authors' TF code; `official`: Schuldt et
# al., ICPR 2004.
KTH_SPLITS = {
    "paper": {"train": range(1, 17), "test": range(17, 26)},
    "official": {
        "train": range(11, 19),
        "validation": (19, 20, 21, 23, 24, 25, 1, 4),
        "test": (22, 2, 3, 5, 6, 7, 8, 9, 10),
    },
}
# The one video absent from the public KTH release.
_KTH_ABSENT = "person13_handclapping_d3"
_KTH_NAME = re.compile(
    rf"(person(\d\d)_({'|'.join(KTH_CLASSES)})_d([1-4]))_uncomp\.avi"
)
_KTH_SEQUENCE = re.compile(r"\s*(person\d\d_[a-z]+_d\d)\s+frames\s+(.*)")


def _kth_persons(subject_split):
    if subject_split not in KTH_SPLITS:
        raise errors.InputError(
            f"Unknown KTH split {subject_split!r}; known: {sorted(KTH_SPLITS)}"
        )
    return KTH_SPLITS[subject_split]


def _kth_describe(root=None, subject_split="paper"):
    _check_root(root, "kth")
    splits = tuple(_kth_persons(subject_split))
    return Description(KTH_CLASSES, splits, _kth_layout(root))


def _kth_layout(root):
    """Lines saying where the videos are, which are missing, and the
    sub-sequence file."""
    videos, sequences = _kth_videos(root)
    folders = sorted(
        {
            os.path.relpath(os.path.dirname(path), root)
            for path, _ in videos.values()
        }
    )
    folders = ["the root" if name == "." else name for name in folders]
    missing = _kth_missing(videos)
    lines = [f"videos: {len(videos)} under {root}, in {', '.join(folders)}"]
    if missing:
        # Once, here: `describe` comes before `items`, which is per split.
        logging.warning(
            "KTH: %d videos missing under %s, e.g. %s",
            len(missing),
            root,
            missing[0],
        )
        lines.append(
            f"missing: {len(missing)} besides {_KTH_ABSENT} (absent from "
            f"the release), e.g. {missing[0]}"
        )
    else:
        lines.append(f"missing: only {_KTH_ABSENT}, absent from the release")
    if sequences is None:
        lines.append("sub-sequences: no 00sequences.txt; a clip per video")
    else:
        ranges = read_kth_sequences(sequences)
        count = sum(len(ranges.get(name, ())) for name in videos)
        lines.append(
            f"sub-sequences: {sequences}, {count} for the videos found "
            "(a video it does not list is one clip)"
        )
    return tuple(lines)


def _kth_missing(videos):
    """The videos of the release not in `videos`, sorted."""
    expected = {
        f"person{p:02d}_{action}_d{d}"
        for p in range(1, 26)
        for action in KTH_CLASSES
        for d in range(1, 5)
    }
    return sorted(expected - set(videos) - {_KTH_ABSENT})


def _kth_videos(root):
    """Returns ({name: match of _KTH_NAME}, path of 00sequences.txt or None)."""
    videos, sequences = {}, None
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            match = _KTH_NAME.fullmatch(name)
            if match:
                videos[match.group(1)] = (os.path.join(folder, name), match)
            elif name == "00sequences.txt" and sequences is None:
                sequences = os.path.join(folder, name)
    if not videos:
        raise errors.InputError(
            f"No KTH videos (personNN_<action>_dN_uncomp.avi) under {root}"
        )
    return videos, sequences


def read_kth_sequences(path: str) -> dict:
    """Reads KTH's `00sequences.txt`.

    Args:
        path: The file; lines like
            `person01_boxing_d1<tab>frames<tab>1-95, 96-185, 186-245`.

    Returns:
        {video name: [(first, last), ...]}, frame numbers 1-based inclusive
        as in the file. Lines in other formats (the header) are skipped.
        Ranges are not checked here: one that holds no frame (`0-10`,
        `100-50`) becomes a clip that `prepare` rejects, with the reason
        (`video_io.read`).
    """
    ranges = {}
    # The file is ASCII; a stray byte must not stop the listing.
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = _KTH_SEQUENCE.match(line)
            if match:
                spans = re.findall(r"(\d+)\s*-\s*(\d+)", match.group(2))
                ranges[match.group(1)] = [(int(a), int(b)) for a, b in spans]
    return ranges


def _kth_items(root, split, subject_split="paper"):
    """One item per video, or per sub-sequence listed in 00sequences.txt."""
    persons = set(_kth_persons(subject_split)[split])
    videos, sequences = _kth_videos(root)
    ranges = read_kth_sequences(sequences) if sequences else {}
    for name, (path, match) in sorted(videos.items()):
        if int(match.group(2)) not in persons:
            continue
        label = KTH_CLASSES.index(match.group(3))
        if name not in ranges:
            yield VideoItem(name, label, KTH_CLASSES[label], path)
        for number, frames in enumerate(ranges.get(name, ()), 1):
            yield VideoItem(
                f"{name}_{number}",
                label,
                KTH_CLASSES[label],
                path,
                metadata=dict(frames=frames),
            )


# === folder ===

# The folder source's default split of a dataset without split folders or
# column: a hash of each path puts 20 % in test, none in validation.
VALIDATION_FRACTION = 0.0
TEST_FRACTION = 0.2


@dataclasses.dataclass(frozen=True)
class _Entry:
    """A video of the folder source.

    Attributes:
        key: Its path relative to the root (folders) or as the CSV gives
            it, as Python names files: bytes that are not UTF-8 are
            surrogates. The hash split is a function of it.
        path: The file, for opening.
        label_text: Its class name, printable.
        split: Its split folder or column, or None.
    """

    key: str
    path: str
    label_text: str
    split: str | None


def printable(name: str) -> str:
    """`name` with bytes that are not UTF-8 written as `\\xNN`.

    Python gives such bytes in file names as surrogates, which cannot be
    encoded: not into a TFRecord, a JSON report or a UTF-8 log. Valid names
    are returned unchanged.
    """
    raw = name.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def _folder_entries(root):
    """Returns the `_Entry`s of a class-folder tree or a CSV file."""
    if root is not None and root.lower().endswith(".csv"):
        return _csv_entries(root)
    _check_root(root, "folder")
    top = _subfolders(root)
    if top and set(top) <= set(SPLITS):
        layout = [(os.path.join(root, split), split) for split in top]
    else:
        layout = [(root, None)]
    entries = []
    for folder, split in layout:
        for name in _subfolders(folder):
            for video in sorted(os.listdir(os.path.join(folder, name))):
                path = os.path.join(folder, name, video)
                if not video.startswith(".") and os.path.isfile(path):
                    key = os.path.relpath(path, root).replace(os.sep, "/")
                    entries.append(_Entry(key, path, printable(name), split))
    if not entries:
        raise errors.InputError(
            f"No videos in class folders (<root>/<class>/<video>) under {root}"
        )
    return entries


def _subfolders(folder):
    return sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith(".")
        and os.path.isdir(os.path.join(folder, name))
    )


def _csv_entries(path):
    """Reads `path,label[,split]` rows; any fault is one `InputError` line."""
    reader = csv.DictReader(io.StringIO(csv_text(path), newline=""))
    try:
        header = [name.strip() for name in reader.fieldnames or ()]
    except csv.Error as error:
        raise errors.InputError(f"{path}, line 1: {error}") from None
    if not {"path", "label"} <= set(header):
        raise errors.InputError(
            f"{path}: needs a header with columns path,label[,split] and rows"
        )
    reader.fieldnames = header
    folder = os.path.dirname(os.path.abspath(path))
    entries, line = [], reader.line_num + 1
    try:
        for row in reader:
            _check_row(row, header, f"{path}, line {line}")
            line = reader.line_num + 1
            video = os.path.join(folder, row["path"])
            split = row.get("split") or None
            entries.append(_Entry(row["path"], video, row["label"], split))
    except csv.Error as error:
        raise errors.InputError(f"{path}, line {line}: {error}") from None
    if not entries:
        raise errors.InputError(
            f"{path}: needs a header with columns path,label[,split] and rows"
        )
    return entries


def csv_text(path: str) -> str:
    """The text of a UTF-8 CSV file, without the BOM spreadsheets write.

    Raises:
        errors.InputError: A missing or unreadable file, or one that is not
            UTF-8 (naming the line).
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.InputError(f"No such CSV file: {path}") from None
    except OSError as error:
        raise errors.InputError(f"Cannot read {path}: {error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise errors.InputError(
            f"{path}, line {line}: not UTF-8 text (byte "
            f"0x{data[error.start]:02x}); save the CSV as UTF-8"
        ) from None


def _check_row(row, header, where):
    """Raises `InputError` for a row without path and label, or too long."""
    if None in row:  # The fields beyond the header.
        raise errors.InputError(
            f"{where}: more fields than the header's {len(header)} (a comma "
            "in a field needs quotes)"
        )
    if row["path"] is None or row["label"] is None:
        count = sum(value is not None for value in row.values())
        raise errors.InputError(
            f"{where}: a row needs a path and a label; this one has {count} "
            f"field{'s' * (count != 1)}"
        )
    for column in ("path", "label"):
        if not row[column].strip():
            raise errors.InputError(f"{where}: an empty {column}")
    split = row.get("split") or None
    if split is not None and split not in SPLITS:
        raise errors.InputError(
            f"{where}: unknown split {split!r}; known: {list(SPLITS)}"
        )


def _hash_split(key, validation_fraction, test_fraction):
    """A split fixed by the path, so adding videos never moves the others."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test_fraction:
        return "test"
    if position < test_fraction + validation_fraction:
        return "validation"
    return "train"


def _check_fractions(validation_fraction, test_fraction):
    fractions = (validation_fraction, test_fraction)
    # `not 0 <= x` also catches NaN.
    if not all(0 <= x <= 1 for x in fractions) or not sum(fractions) <= 1:
        raise errors.InputError(
            "validation_fraction and test_fraction must lie in [0, 1], and "
            f"so must their sum; got {validation_fraction}, {test_fraction}"
        )


def _folder_split(entry, validation_fraction, test_fraction):
    return entry.split or _hash_split(
        entry.key, validation_fraction, test_fraction
    )


def _folder_describe(
    root=None,
    validation_fraction=VALIDATION_FRACTION,
    test_fraction=TEST_FRACTION,
):
    _check_fractions(validation_fraction, test_fraction)
    entries = _folder_entries(root)
    classes = tuple(sorted({entry.label_text for entry in entries}))
    present = {
        _folder_split(entry, validation_fraction, test_fraction)
        for entry in entries
    }
    where = "listed in" if root.lower().endswith(".csv") else "under"
    layout = (f"videos: {_videos(len(entries))} {where} {root}",)
    splits = tuple(s for s in SPLITS if s in present)
    return Description(classes, splits, layout)


def _folder_items(
    root,
    split,
    validation_fraction=VALIDATION_FRACTION,
    test_fraction=TEST_FRACTION,
):
    """Yields the split's videos; ids are printable paths (`printable`)."""
    _check_fractions(validation_fraction, test_fraction)
    entries = _folder_entries(root)
    classes = sorted({entry.label_text for entry in entries})
    for entry in entries:
        if _folder_split(entry, validation_fraction, test_fraction) == split:
            yield VideoItem(
                printable(entry.key),
                classes.index(entry.label_text),
                entry.label_text,
                entry.path,
            )


def _videos(count):
    return f"{count:,} video{'s' * (count != 1)}"


def _check_root(root, source):
    if root is None:
        raise errors.InputError(f"The {source} source needs a root")
    if not os.path.isdir(root):
        raise errors.InputError(f"No such directory: {root}")


SOURCES = {
    "synthetic": Source(_synthetic_describe, _synthetic_items),
    "ssv2": Source(_ssv2_describe, _ssv2_items),
    "kth": Source(_kth_describe, _kth_items),
    "folder": Source(_folder_describe, _folder_items),
}


def get(name: str) -> Source:
    """Returns the source called `name`.

    Raises:
        errors.InputError: Unknown name.
    """
    if name not in SOURCES:
        raise errors.InputError(
            f"Unknown source {name!r}; known: {sorted(SOURCES)}"
        )
    return SOURCES[name]
