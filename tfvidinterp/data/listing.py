"""What a source lists (`sources`): its `Description` (classes, splits, the
layout lines it found) and its `VideoItem`s, with what every source's
listing shares: the split names, printable names, a root check."""

import dataclasses
import os
from collections import abc

from tfvidinterp import errors

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


def printable(name: str) -> str:
    """`name` with bytes that are not UTF-8 written as `\\xNN`.

    Python gives such bytes in file names as surrogates, which cannot be
    encoded: not into a TFRecord, a JSON report or a UTF-8 log. Valid names
    are returned unchanged.
    """
    raw = name.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def videos(count):
    return f"{count:,} video{'s' * (count != 1)}"


def check_root(root, source):
    if root is None:
        raise errors.InputError(f"The {source} source needs a root")
    if not os.path.isdir(root):
        raise errors.InputError(f"No such directory: {root}")
