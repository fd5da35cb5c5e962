"""`prepare.run`'s dry run: the videos a run would decode and those missing,
a few made into clips, and the run's time and size estimated from them;
nothing is written."""

import collections
import os
import shutil
import time

import numpy as np

from tfvidinterp.data import prepare_items
from tfvidinterp.data import sources

# Videos per split that `check` decodes to estimate a run's time and size.
CHECK_SAMPLE = 8


def check(
    source: str,
    output_dir: str | None = None,
    *,
    root: str | None = None,
    splits=None,
    num_shards: int = 8,
    short_side: int | None = None,
    max_frames: int | None = None,
    num_workers: int = 2,
    source_options: dict | None = None,
    sample_size: int = CHECK_SAMPLE,
    seed: int = 0,
) -> dict:
    """What `prepare.run` would do, found in seconds, writing nothing.

    Lists each split's videos per class and those missing and why (as a
    `stat` tells), makes clips of a few others as a run would, and
    extrapolates their time and size to the whole run.

    Args:
        source: As for `prepare.run`, and so are `root`, `splits`, `num_shards`,
            `short_side`, `max_frames` and `source_options`.
        output_dir: As for `prepare.run`, but only read for the free disk space;
            it need not exist, and is not created.
        num_workers: As for `prepare.run`; the time estimate divides by it.
        sample_size: Videos decoded per split.
        seed: Chooses them.

    Returns:
        `{"source", "root", "layout": [lines], "classes", "splits": {split:
        {"videos", "missing", "missing_reasons": {reason: count},
        "missing_example", "classes": {name: [videos, missing]}, "sample":
        {"ids", "rejected", "reasons", "seconds": [...], "bytes": [...]}}},
        "estimate": {"videos", "clips", "seconds", "bytes", "workers",
        "free_bytes"}}`; `seconds` and `bytes` are None without a sample.

    Raises:
        errors.InputError: What `prepare.run` raises before it decodes,
            but for a split without a video: the report shows it.
    """
    source_options = dict(source_options or {})
    sizes = (num_shards, short_side, max_frames)
    described, splits = prepare_items.describe(
        source, root, splits, sizes, num_workers, source_options, log=False
    )
    rng = np.random.default_rng(seed)
    report = dict(source=source, root=root, layout=list(described.layout))
    report.update(classes=list(described.classes), splits={})
    for split in splits:
        items = list(sources.get(source).items(root, split, **source_options))
        report["splits"][split] = _check_split(
            items, described.classes, rng, sample_size, (short_side, max_frames)
        )
    report["estimate"] = _estimate(report["splits"], num_workers, output_dir)
    return report


def _check_split(items, classes, rng, sample_size, sizes):
    """`check`'s report of one split's `items`; `sizes`: `(short_side,
    max_frames)`."""
    missing = prepare_items.missing_files(items)
    counts = {name: [0, 0] for name in classes}
    for item in items:
        counts[classes[item.label]][0] += 1
    for item, _ in missing:
        counts[classes[item.label]][1] += 1
    absent = {id(item) for item, _ in missing}
    present = [item for item in items if id(item) not in absent]
    size = min(sample_size, len(present))
    chosen = sorted(rng.choice(len(present), size, replace=False))
    reasons = collections.Counter(reason for _, reason in missing)
    return dict(
        videos=len(items),
        missing=len(missing),
        missing_reasons=dict(reasons.most_common()),
        missing_example=(
            sources.printable(missing[0][0].path) if missing else None
        ),
        classes=counts,
        sample=_sample([present[i] for i in chosen], *sizes),
    )


def _sample(items, short_side, max_frames):
    """Makes clips of `items` as `prepare.run` does: the seconds and bytes
    of each."""
    if items:  # The first clip loads codecs and kernels: a run's, once.
        prepare_items.encode((items[0], short_side, max_frames))
    seconds, sizes, reasons = [], [], collections.Counter()
    for item in items:
        begin = time.perf_counter()
        serialized, reason = prepare_items.encode(
            (item, short_side, max_frames)
        )
        seconds.append(time.perf_counter() - begin)
        if reason is None:
            sizes.append(len(serialized) + prepare_items.RECORD_OVERHEAD)
        else:
            reasons[" ".join(reason.split())] += 1
    return dict(
        ids=[item.id for item in items],
        rejected=sum(reasons.values()),
        reasons=dict(reasons.most_common()),
        seconds=seconds,
        bytes=sizes,
    )


def _estimate(splits, num_workers, output_dir):
    """Extrapolates the samples of `check`'s `splits` to the whole run."""
    samples = [split["sample"] for split in splits.values()]
    seconds = [value for sample in samples for value in sample["seconds"]]
    sizes = [value for sample in samples for value in sample["bytes"]]
    videos = sum(
        split["videos"] - split["missing"] for split in splits.values()
    )
    # The sample's share of clips made: the rest were rejected.
    clips = round(videos * len(sizes) / len(seconds)) if seconds else videos
    workers = max(1, min(num_workers, os.cpu_count() or 1))
    return dict(
        videos=videos,
        clips=clips,
        seconds=float(videos * np.mean(seconds) / workers) if seconds else None,
        bytes=float(clips * np.mean(sizes)) if sizes else None,
        workers=workers,
        free_bytes=_free_bytes(output_dir),
    )


def _free_bytes(path):
    """Free bytes on the disk `path` would be on, or None without a path."""
    if path is None:
        return None
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free
