"""Decodes a source's videos once into a dataset directory of TFRecords.

Layout of `output_dir`: `<split>-<i>-of-<n>.tfrecord` shards of
`tf.train.SequenceExample`s (`tfrecord.encode_example`), `dataset_info.json`
(source, classes, per-split counts, options), `rejected.txt` (one
`<split>\\t<path or id>\\t<reason>` line per video that could not be made a
clip) and `.prepare/`, the per-shard records that let a re-run resume, and
the lock that keeps a second run out while one writes.

Each split's items are shuffled with a fixed seed and dealt round-robin to
`min(num_shards, items)` shards, so every shard mixes the classes and the
assignment is the same on every run. A shard is written to a temporary file
of a unique name and renamed when complete; a re-run skips the complete
shards and redoes the rest, after removing what a killed run left. A video
that cannot be made a clip, for any reason (not a video, damaged, a bad
frame range, an unforeseen error, even its decoding process dying), is
logged, listed in `rejected.txt` with the reason and counted; the run goes
on. But a run that would write no clip for a split it was asked for is an
error: before decoding when none of the split's videos is there, after it
when every one was rejected (that split's shards are then removed, so a
re-run decodes it again). A split that loses more than `REJECTED_SHARE` of
its videos is reported at the end (`run`'s `warnings`).

`check` (`prepare_check`) is the dry run: it lists the videos a run would
decode and those missing, decodes a few, and estimates the run's time and
size, writing nothing. The other parts: `prepare_items` (a source's items,
and each made an example), `process_map` (the decoding workers),
`prepare_state` (`.prepare/`), `dataset_info` (the summary files) and
`prepare_progress` (the progress line).
"""

import collections
import functools
import json
import os
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import dataset_info
from tfvidinterp.data import prepare_check
from tfvidinterp.data import prepare_items
from tfvidinterp.data import prepare_progress
from tfvidinterp.data import prepare_state
from tfvidinterp.data import process_map
from tfvidinterp.data import sources
from tfvidinterp.data import tfrecord

# The summary files' names and reader, where the jobs and users find them.
INFO_FILE = dataset_info.INFO_FILE
REJECTED_FILE = dataset_info.REJECTED_FILE
read_info = dataset_info.read_info
# A split that loses more than this share of its videos (missing, or
# rejected when decoded) is reported: more is rarely a few odd files, and
# more often a layout, a codec or a disk that needs a look.
REJECTED_SHARE = 0.05
# The reason given for a clip whose decoding process died.
_DIED = (
    "its decoding process died (killed for lack of memory, or a crash in "
    "FFmpeg)"
)


# The dry run, where users call it (docs/formats.md).
check = prepare_check.check


def run(
    source: str,
    output_dir: str,
    *,
    root: str | None = None,
    splits=None,
    num_shards: int = 8,
    short_side: int | None = None,
    max_frames: int | None = None,
    num_workers: int = 2,
    source_options: dict | None = None,
) -> dict:
    """Writes (or completes) the dataset directory of a source.

    The module docstring says how shards, re-runs and rejections work.
    Progress goes to stdout (`prepare_progress.Progress`).

    Args:
        source: A name in `sources.SOURCES`.
        output_dir: The dataset directory; created if missing.
        root: The source's files (a directory, or a CSV for `folder`).
        splits: Splits to write; default all the source has.
        num_shards: Shards per split (fewer if the split has fewer clips).
        short_side: Resize frames so the shorter side has this many
            pixels, keeping the aspect ratio; None keeps the size.
            Synthetic clips are generated at their size instead.
        max_frames: Keep at most this many frames per clip, spread uniformly
            (`video_io.spread_indices`); None keeps all.
        num_workers: Decoding processes; 0 decodes in this process (the
            pool's start costs seconds; a script using workers needs an
            `if __name__ == "__main__"` guard).
        source_options: Keyword options of the source (see `sources`).

    Returns:
        The contents of `dataset_info.json`, plus `run`: `shards_written`,
        `shards_reused`, `seconds` and `warnings` (a line for each split
        that lost more than `REJECTED_SHARE` of its videos).

    Raises:
        errors.InputError: Unknown source or split, bad option, missing
            root, an `output_dir` prepared with other options or that
            another run writes; a split without a video to decode or clip.
    """
    start = time.time()
    source_options = dict(source_options or {})
    sizes = (num_shards, short_side, max_frames)
    described, splits = prepare_items.describe(
        source, root, splits, sizes, num_workers, source_options
    )
    options = _options(source, root, *sizes, source_options)
    shards = _plan(
        output_dir, source, root, described.splits, num_shards, source_options
    )
    _check_present(shards, splits)
    with prepare_state.lock(output_dir):
        info = _write(
            output_dir, described, shards, splits, options, num_workers
        )
    info["run"]["seconds"] = round(time.time() - start, 1)
    return info


def _write(output_dir, described, shards, splits, options, num_workers):
    """`run`'s work under the lock; returns the info, with `run` but for
    its `seconds`."""
    prepare_state.remove_temporary_files(output_dir)
    prepare_state.check_stale(output_dir, splits, shards)
    prepare_state.claim(output_dir, options)
    pending = _pending(shards, splits)
    sizes = (options["short_side"], options["max_frames"])
    _write_shards(pending, *sizes, num_workers)
    info, warnings = _finish(output_dir, described, shards, options, splits)
    info["run"] = dict(
        shards_written=len(pending),
        shards_reused=sum(len(shards[s]) for s in splits) - len(pending),
        warnings=warnings,
    )
    return info


def _options(source, root, num_shards, short_side, max_frames, source_options):
    """Returns the options that fix a directory's contents, as JSON has them.

    They are stored in `dataset_info.json` and in `.prepare/`, and compared
    with a re-run's (`_claim`); the round trip through JSON makes a tuple a
    list before the comparison, as it will be when read back.
    """
    return files.as_json(
        dict(
            source=source,
            root=None if root is None else os.path.abspath(root),
            num_shards=num_shards,
            short_side=short_side,
            max_frames=max_frames,
            source_options=source_options,
        )
    )


def _plan(output_dir, source, root, splits, num_shards, source_options):
    """Returns the shards of each split, `{split: [prepare_state.Shard]}`.

    Each split's items are shuffled with a fixed seed and dealt round-robin
    to `min(num_shards, items)` shards (at least one).
    """
    shards = {}
    for split in splits:
        items = list(sources.get(source).items(root, split, **source_options))
        count = max(1, min(num_shards, len(items)))
        # Sources list videos grouped by class or person; shuffling before
        # dealing gives every shard a mix, whatever shards a reader takes.
        order = np.random.default_rng(0).permutation(len(items))
        shards[split] = [
            prepare_state.Shard(
                split,
                tfrecord.shard_path(output_dir, split, index, count),
                [items[i] for i in order[index::count]],
            )
            for index in range(count)
        ]
    return shards


def _pending(shards, splits):
    """Returns the shards of `splits` that are not complete, in order."""
    return [
        shard
        for split in splits
        for shard in shards[split]
        if prepare_state.read_record(shard) is None
    ]


def _check_present(shards, splits):
    """Refuses a split with no video to decode, before hours of decoding.

    A split of which some videos are missing is decoded, with a warning
    when they are more than `REJECTED_SHARE`; they are rejected as the run
    comes to them.
    """
    for split in splits:
        items = [item for shard in shards[split] for item in shard.items]
        missing = prepare_items.missing_files(items)
        if not items:
            raise errors.InputError(
                f"Split {split} has no video to decode: the source lists none"
            )
        reasons = collections.Counter(reason for _, reason in missing)
        if len(missing) == len(items):
            raise errors.InputError(
                f"Split {split} has no video to decode: none of its "
                f"{len(items):,} files is there "
                f"({prepare_items.most_common(reasons)}), "
                f"e.g. {sources.printable(missing[0][0].path)}; "
                "prepare_data --check shows where the source looked"
            )
        if len(missing) > REJECTED_SHARE * len(items):
            logging.warning(
                "%s: %d of %d videos missing (%s), e.g. %s",
                split,
                len(missing),
                len(items),
                prepare_items.most_common(reasons),
                sources.printable(missing[0][0].path),
            )


def _write_shards(pending, short_side, max_frames, num_workers):
    if not pending:
        return
    jobs = [
        (item, short_side, max_frames)
        for shard in pending
        for item in shard.items
    ]
    progress = prepare_progress.Progress(len(jobs))
    results = process_map.map_in_order(
        prepare_items.encode, jobs, num_workers, (None, _DIED)
    )
    for shard in pending:
        write = functools.partial(_write_shard, shard, results, progress)
        files.save_atomic(shard.path, write)
    progress.end()


def _write_shard(shard, results, progress, temp):
    """Writes the next results, those of `shard.items`, to `temp`.

    Then it writes the shard's record; `files.save_atomic` renames `temp`
    to the shard after it: the rename is what marks the shard done.
    """
    num_clips, rejected = 0, []
    with tf.io.TFRecordWriter(temp) as writer:
        for item in shard.items:
            serialized, reason = next(results)
            if reason is None:
                writer.write(serialized)
                num_clips += 1
                progress.add(len(serialized) + prepare_items.RECORD_OVERHEAD)
            else:
                what = sources.printable(item.path or item.id)
                reason = " ".join(reason.split())  # One line, no tabs.
                logging.warning("Rejected %s: %s", what, reason)
                rejected.append([what, reason])
                progress.add(rejected=True)
    with open(temp, "rb") as f:
        os.fsync(f.fileno())  # On disk before the record says it is done.
    record = dict(num_clips=num_clips, rejected=rejected, digest=shard.digest)
    files.write_atomic(shard.record_path, json.dumps(record))


def _finish(output_dir, described, shards, options, splits):
    """Writes the summary files, and raises for a split written empty.

    Returns:
        `(info, warnings)`: the contents of `dataset_info.json`, and a line
        for each split of `splits` that lost more than `REJECTED_SHARE` of
        its videos.

    Raises:
        errors.InputError: A split of `splits` without a clip. Its shards
            are removed, so that a re-run decodes it again (its videos may
            be there by then); `rejected.txt` keeps its rejections.
    """
    records = {}
    for split in described.splits:
        split_records = [
            prepare_state.read_record(shard) for shard in shards[split]
        ]
        if None not in split_records:  # Only complete splits.
            records[split] = split_records
    empty = [
        split
        for split in splits
        if not dataset_info.split_counts(records[split])[0]
    ]
    info = dataset_info.write_summary(
        output_dir, described, records, options, empty
    )
    if empty:
        for shard in (shard for split in empty for shard in shards[split]):
            for path in (shard.path, shard.record_path):
                if os.path.exists(path):
                    os.remove(path)
        rejected = os.path.join(output_dir, REJECTED_FILE)
        raise errors.InputError(
            "Wrote no clip for split "
            + "; ".join(_empty(split, records[split]) for split in empty)
            + f"; see {rejected}"
        )
    warnings = [_warning(split, records[split], output_dir) for split in splits]
    warnings = [warning for warning in warnings if warning]
    for warning in warnings:
        logging.warning("%s", warning)
    return info, warnings


def _empty(split, records):
    """What `_finish` says of a split written without a clip."""
    _, rejected, reasons = dataset_info.split_counts(records)
    if not rejected:
        return f"{split}: the source lists no video"
    return (
        f"{split}: all {rejected:,} videos rejected, "
        + prepare_items.most_common(reasons)
    )


def _warning(split, records, output_dir):
    """A line if `split` lost more than `REJECTED_SHARE`, else None."""
    clips, rejected, reasons = dataset_info.split_counts(records)
    if rejected <= REJECTED_SHARE * (clips + rejected):
        return None
    return (
        f"{split}: {rejected:,} of {clips + rejected:,} videos rejected "
        f"({rejected / (clips + rejected):.0%}), "
        f"{prepare_items.most_common(reasons)}; "
        f"see {os.path.join(output_dir, REJECTED_FILE)}"
    )
