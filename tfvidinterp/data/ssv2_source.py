"""The `ssv2` source: Something-Something V2, its videos and label files as
the official download lays them out."""

import json
import os

from absl import logging

from tfvidinterp import errors
from tfvidinterp.data import listing

# The folder the official video archives unpack to; the videos may also lie
# in the root itself.
SSV2_VIDEO_FOLDER = "20bn-something-something-v2"
# Split -> the official list it comes from. The validation list is the test
# split: the official test list (`test.json`) has no labels.
_SSV2_SPLIT_FILES = {"train": "train", "test": "validation"}


def _ssv2_file(root, name):
    """Finds an official label file, as shipped in either download."""
    listing.check_root(root, "ssv2")
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


def describe(root=None):
    classes, _, labels = _ssv2_labels(root)
    splits = tuple(
        split
        for split, name in _SSV2_SPLIT_FILES.items()
        if _ssv2_file(root, name) is not None
    )
    return listing.Description(
        tuple(classes), splits, _ssv2_layout(root, labels)
    )


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
            lines.append(f"{split}: {path}, {listing.videos(len(ids))}{what}")
    unlabelled = _ssv2_file(root, "test")
    if unlabelled is not None:
        count = len(_ssv2_list(unlabelled))
        lines.append(
            f"not prepared: {unlabelled}, {listing.videos(count)} without "
            "labels (the official test list)"
        )
    lines.insert(
        0, f"videos: {folder}, {present:,} of the {listed:,} listed there"
    )
    if listed and not present:
        logging.warning(
            "SSv2: none of the %d listed videos is in %s", listed, folder
        )
    return tuple(lines)


def items(root, split):
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
        yield listing.VideoItem(
            id=str(entry["id"]),
            label=label,
            label_text=classes[label],
            path=os.path.join(folder, f"{entry['id']}.webm"),
            metadata=dict(caption=entry.get("label", "")),
        )
