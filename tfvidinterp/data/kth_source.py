"""The `kth` source: the KTH actions, split by person (the paper's split or
another), with the official sub-sequences of each video."""

import os
import re

from absl import logging

from tfvidinterp import errors
from tfvidinterp.data import listing

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


def describe(root=None, subject_split="paper"):
    listing.check_root(root, "kth")
    splits = tuple(_kth_persons(subject_split))
    return listing.Description(KTH_CLASSES, splits, _kth_layout(root))


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


def items(root, split, subject_split="paper"):
    """One item per video, or per sub-sequence listed in 00sequences.txt."""
    persons = set(_kth_persons(subject_split)[split])
    videos, sequences = _kth_videos(root)
    ranges = read_kth_sequences(sequences) if sequences else {}
    for name, (path, match) in sorted(videos.items()):
        if int(match.group(2)) not in persons:
            continue
        label = KTH_CLASSES.index(match.group(3))
        if name not in ranges:
            yield listing.VideoItem(name, label, KTH_CLASSES[label], path)
        for number, frames in enumerate(ranges.get(name, ()), 1):
            yield listing.VideoItem(
                f"{name}_{number}",
                label,
                KTH_CLASSES[label],
                path,
                metadata=dict(frames=frames),
            )
