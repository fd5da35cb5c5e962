"""A source's items as `prepare.run` and `prepare_check.check` take them:
the source described and the options checked (`describe`), the files a
`stat` finds missing (`missing_files`), and one item made a serialized
`tfrecord` example or the reason it cannot be one (`encode`)."""

import os

from absl import logging

from tfvidinterp import errors
from tfvidinterp.data import sources
from tfvidinterp.data import synthetic
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_io

# Bytes a TFRecord file adds to a record: its length and two CRCs.
RECORD_OVERHEAD = 16


def describe(
    source, root, splits, sizes, num_workers, source_options, log=True
):
    """Returns the source's `Description` and the splits to do, checked.

    `sizes`: `(num_shards, short_side, max_frames)`. With `log`, it logs
    the layout the source found (`prepare_check.check` prints it instead).
    """
    described = sources.get(source).describe(root, **source_options)
    splits = _check_args(source, described, splits, *sizes, num_workers)
    for line in described.layout if log else ():
        logging.info("%s: %s", source, line)
    return described, splits


def _check_args(
    source, described, splits, num_shards, short_side, max_frames, num_workers
):
    splits = list(described.splits if splits is None else splits)
    for split in splits:
        if split not in described.splits:
            raise errors.InputError(
                f"Unknown split {split!r} for source {source}; known: "
                f"{list(described.splits)}"
            )
    for name, value in [
        ("num_shards", num_shards),
        ("short_side", short_side),
        ("max_frames", max_frames),
    ]:
        if value is not None and value < 1:
            raise errors.InputError(f"{name} must be >= 1, got {value}")
    if num_workers < 0:
        raise errors.InputError(f"num_workers must be >= 0, got {num_workers}")
    if source == "synthetic" and (short_side or max_frames):
        raise errors.InputError(
            "Synthetic clips are generated at their size: set the source's "
            "num_frames and image_size, not short_side or max_frames"
        )
    return splits


def missing_files(items):
    """`[(item, reason)]` of the items whose file is not there.

    What a `stat` tells, without opening a file: a run decodes the rest.
    """
    found, missing = {}, []
    for item in items:
        if item.path is None:  # Generated, not read.
            continue
        if item.path not in found:  # KTH's sub-sequences share a file.
            found[item.path] = _absent(item.path)
        if found[item.path]:
            missing.append((item, found[item.path]))
    return missing


def _absent(path):
    """Why `path` cannot be a video, as a `stat` tells; else None."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return "no such file"  # As `video_io.read` says it.
    except OSError as error:
        return error.strerror.lower()
    if not os.path.isfile(path):
        return "not a file"
    return "an empty file" if stat.st_size == 0 else None


def most_common(reasons):
    """`most often 'reason': count`, of a `Counter` of reasons."""
    (reason, count), *_ = reasons.most_common(1)
    return f"most often {reason!r}: {count:,}"


def encode(job):
    """Returns (serialized example, None) or (None, reason).

    Any exception reading a video is a reason: one odd file must not stop a
    run that may have hours of decoding left. An unforeseen one is named by
    its type. A synthetic clip is generated, not read: its failure is a bad
    option or a bug, the same for every clip, and stops the run.
    """
    item, short_side, max_frames = job
    if item.path is None:
        clip = synthetic.generate_clip(
            item.metadata["seed"],
            item.label,
            item.metadata["num_frames"],
            item.metadata["image_size"],
            background=item.metadata["background"],
            camera=item.metadata["camera"],
        )
        return _serialize(item, clip.frames, len(clip.frames), clip), None
    try:
        video = video_io.read(
            item.path, max_frames, short_side, item.metadata.get("frames")
        )
        return _serialize(item, video.frames, video.num_frames), None
    except video_io.DecodeError as error:
        return None, error.reason
    except errors.InputError as error:
        return None, str(error)
    except Exception as error:  # Any failure is this clip's alone.
        return None, f"{type(error).__name__}: {error}"


def _serialize(item, frames, num_frames, ground_truth=None):
    return tfrecord.encode_example(
        frames,
        item.label,
        item.label_text,
        item.id,
        num_frames,
        ground_truth=ground_truth,
    )
