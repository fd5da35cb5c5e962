"""The `folder` source: videos of one's own, in a folder per class (with
optional split folders above them) or listed in a CSV file; a video without
a split goes to one by a hash of its name."""

import csv
import dataclasses
import hashlib
import io
import os

from tfvidinterp import errors
from tfvidinterp.data import listing

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


def _folder_entries(root):
    """Returns the `_Entry`s of a class-folder tree or a CSV file."""
    if root is not None and root.lower().endswith(".csv"):
        return _csv_entries(root)
    listing.check_root(root, "folder")
    top = _subfolders(root)
    if top and set(top) <= set(listing.SPLITS):
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
                    entries.append(
                        _Entry(key, path, listing.printable(name), split)
                    )
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
    if split is not None and split not in listing.SPLITS:
        raise errors.InputError(
            f"{where}: unknown split {split!r}; known: {list(listing.SPLITS)}"
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


def describe(
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
    layout = (f"videos: {listing.videos(len(entries))} {where} {root}",)
    splits = tuple(s for s in listing.SPLITS if s in present)
    return listing.Description(classes, splits, layout)


def items(
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
            yield listing.VideoItem(
                listing.printable(entry.key),
                classes.index(entry.label_text),
                entry.label_text,
                entry.path,
            )
