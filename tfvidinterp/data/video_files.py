"""Lists the video files a user names: a directory, a glob or a CSV file.

`binaries.explain --videos` explains them all in one process. A video's id
is its real path (`os.path.realpath`), as for `--video`: the same file named
twice, or through another path, is one clip, and two files of the same name
in different folders are two clips.
"""

import csv
import dataclasses
import glob
import io
import os

from tfvidinterp import errors
from tfvidinterp.data import sources

# What a directory listing takes for a video: the extensions of containers
# FFmpeg reads that cameras, phones and datasets write. A glob or a CSV may
# name files of any other extension.
EXTENSIONS = frozenset(
    (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg")
    + (".wmv", ".flv", ".3gp", ".ogv", ".ts", ".mts")
)


@dataclasses.dataclass(frozen=True)
class VideoFile:
    """A video to explain.

    Attributes:
        id: The file's real path.
        path: The file as named (in the CSV: joined to the CSV's folder).
        label: Its class name from the CSV's `label` column, or None.
    """

    id: str
    path: str
    label: str | None = None


def list_videos(spec: str) -> list[VideoFile]:
    """The videos `spec` names, each once, in a fixed order.

    Args:
        spec: One of
            * a directory: every file under it, in every sub-folder, whose
              extension is in `EXTENSIONS` (any case), hidden files and
              folders left out, sorted by path;
            * a file ending in `.csv`: a header with a `path` column and an
              optional `label` column (class names), one video a row, paths
              relative to the CSV's folder or absolute, in row order;
            * anything else: a glob pattern (`**` matches sub-folders),
              sorted by path.

    Returns:
        `VideoFile`s; a file named twice (through any path) comes once.

    Raises:
        errors.InputError: Nothing found, an unreadable or malformed CSV,
            or one file given two labels.
    """
    if os.path.isdir(spec):
        paths = _walk(spec)
        videos = [VideoFile(os.path.realpath(p), p) for p in paths]
        where = f"no video file ({', '.join(sorted(EXTENSIONS))}) under"
    elif spec.lower().endswith(".csv"):
        videos, where = _csv_videos(spec), "no rows in"
    else:
        paths = sorted(
            p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)
        )
        videos = [VideoFile(os.path.realpath(p), p) for p in paths]
        where = "no file matches"
    if not videos:
        raise errors.InputError(f"{where} {spec}")
    return _unique(videos)


def _walk(root):
    paths = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [n for n in subfolders if not n.startswith(".")]
        paths += [
            os.path.join(folder, name)
            for name in names
            if not name.startswith(".")
            and os.path.splitext(name)[1].lower() in EXTENSIONS
        ]
    return sorted(paths)


def _csv_videos(path):
    """The rows of a `path[,label]` CSV as `VideoFile`s."""
    reader = csv.DictReader(io.StringIO(sources.csv_text(path), newline=""))
    try:
        header = [name.strip() for name in reader.fieldnames or ()]
        reader.fieldnames = header
        if "path" not in header:
            raise errors.InputError(
                f"{path}: needs a header with a path column (and an "
                "optional label column)"
            )
        folder = os.path.dirname(os.path.abspath(path))
        videos = []
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if None in row:  # The fields beyond the header.
                raise errors.InputError(f"{where}: more fields than the header")
            if not (row["path"] or "").strip():
                raise errors.InputError(f"{where}: an empty path")
            file = os.path.join(folder, row["path"])
            label = (row.get("label") or "").strip() or None
            videos.append(VideoFile(os.path.realpath(file), file, label))
    except csv.Error as error:
        raise errors.InputError(f"{path}: {error}") from None
    return videos


def _unique(videos):
    """`videos` without repeats of an id; one id with two labels raises."""
    seen = {}
    for video in videos:
        old = seen.setdefault(video.id, video)
        if old.label != video.label:
            raise errors.InputError(
                f"{video.path} is listed with two labels, {old.label!r} and "
                f"{video.label!r}"
            )
    return list(seen.values())
