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
on.
"""

import collections
import contextlib
import dataclasses
import fcntl
import functools
import glob
import hashlib
import json
import multiprocessing
import os
import time
from concurrent import futures
from concurrent.futures import process

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import sources
from tfvidinterp.data import synthetic
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_io

INFO_FILE = "dataset_info.json"
REJECTED_FILE = "rejected.txt"
STATE_DIR = ".prepare"
LOCK_FILE = "lock"  # In STATE_DIR.
# The prefix of `files.save_atomic`'s temporary names.
_TEMP_PREFIX = ".tmp-"
# The reason given for a clip whose decoding process died.
_DIED = (
    "its decoding process died (killed for lack of memory, or a crash in "
    "FFmpeg)"
)


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

    The module docstring says how clips are dealt to shards, how a re-run
    resumes and what becomes of a video that cannot be made a clip.

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
        `shards_reused` and `seconds`.

    Raises:
        errors.InputError: Unknown source or split, bad option, missing
            root, an `output_dir` prepared with other options, or one that
            another run is writing.
    """
    start = time.time()
    source_options = dict(source_options or {})
    described = sources.get(source).describe(root, **source_options)
    sizes = (num_shards, short_side, max_frames)
    splits = _check_args(source, described, splits, *sizes, num_workers)
    options = _options(source, root, *sizes, source_options)
    shards = _plan(
        output_dir, source, root, described.splits, num_shards, source_options
    )
    with _lock(output_dir):
        _remove_temporary_files(output_dir)
        _check_stale(output_dir, splits, shards)
        _claim(output_dir, options)
        pending = _pending(shards, splits)
        _write_shards(pending, short_side, max_frames, num_workers)
        info = _write_summary(output_dir, source, described, shards, options)
    info["run"] = _run_stats(shards, splits, pending, start)
    return info


def read_info(data_dir: str) -> dict:
    """Returns the `dataset_info.json` of a dataset directory.

    Raises:
        errors.InputError: The directory or its info file is missing.
    """
    if not os.path.isdir(data_dir):
        raise errors.InputError(f"No such dataset directory: {data_dir}")
    path = os.path.join(data_dir, INFO_FILE)
    if not os.path.isfile(path):
        raise errors.InputError(
            f"No {INFO_FILE} in {data_dir}; run prepare_data first"
        )
    with open(path) as f:
        return json.load(f)


@dataclasses.dataclass(frozen=True)
class _Shard:
    split: str
    path: str
    items: list

    @property
    def record_path(self):
        """Where the shard's record goes: clip count, rejections, digest."""
        name = os.path.basename(self.path).replace(".tfrecord", ".json")
        return os.path.join(os.path.dirname(self.path), STATE_DIR, name)

    @property
    def digest(self):
        text = json.dumps([dataclasses.asdict(item) for item in self.items])
        return hashlib.sha256(text.encode()).hexdigest()


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


@contextlib.contextmanager
def _lock(output_dir):
    """Holds `.prepare/lock` while the block runs, else raises `InputError`.

    Two runs writing one directory would each redo the other's shards. The
    lock is an `fcntl.flock`, which the system releases when the file is
    closed or the process ends, however it ends: a killed run leaves no
    stale lock. (It need not hold across machines on NFS.)
    """
    state = os.path.join(output_dir, STATE_DIR)
    try:
        os.makedirs(state, exist_ok=True)
    except OSError as error:
        raise errors.InputError(
            f"Cannot create {state}: {error.strerror}"
        ) from None
    path = os.path.join(state, LOCK_FILE)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise errors.InputError(
                f"Another prepare_data is writing to {output_dir} (it holds "
                f"{path}); wait for it to end or use another output directory"
            ) from None
        yield


def _remove_temporary_files(output_dir):
    """Removes the partial files of a killed run (under the lock)."""
    for folder in (output_dir, os.path.join(output_dir, STATE_DIR)):
        for name in os.listdir(folder):
            # `<shard>.tmp`: the fixed temporary name of earlier versions.
            if name.startswith(_TEMP_PREFIX) or name.endswith(".tfrecord.tmp"):
                os.remove(os.path.join(folder, name))


def _claim(output_dir, options):
    """Refuses to mix runs with different options in one directory."""
    state = os.path.join(output_dir, STATE_DIR)
    os.makedirs(state, exist_ok=True)
    path = os.path.join(state, "options.json")
    if os.path.exists(path):
        with open(path) as f:
            previous = json.load(f)
        changed = "; ".join(
            f"{key}={previous.get(key)!r}, not {value!r}"
            for key, value in options.items()
            if previous.get(key) != value
        )
        if changed:
            raise errors.InputError(
                f"{output_dir} was prepared with other options ({changed}); "
                "use a new output directory"
            )
    files.write_atomic(path, json.dumps(options, indent=2))


def _plan(output_dir, source, root, splits, num_shards, source_options):
    """Returns the shards of each split, `{split: [_Shard]}`.

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
            _Shard(
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
        if _read_record(shard) is None
    ]


def _read_record(shard):
    """Returns the record of a complete shard, else None."""
    if not (os.path.exists(shard.path) and os.path.exists(shard.record_path)):
        return None
    with open(shard.record_path) as f:
        record = json.load(f)
    return record if record.get("digest") == shard.digest else None


def _check_stale(output_dir, splits, shards):
    for split in splits:
        expected = {shard.path for shard in shards[split]}
        found = glob.glob(tfrecord.shard_pattern(output_dir, split))
        stale = sorted(set(found) - expected)
        if stale:
            raise errors.InputError(
                f"{stale[0]} is not part of this run (another num_shards or "
                "source?); use a new output directory"
            )


def _write_shards(pending, short_side, max_frames, num_workers):
    if not pending:
        return
    jobs = [
        (item, short_side, max_frames)
        for shard in pending
        for item in shard.items
    ]
    progress = keras.utils.Progbar(len(jobs), unit_name="video")
    results = _map_in_order(_encode, jobs, num_workers, (None, _DIED))
    for shard in pending:
        write = functools.partial(_write_shard, shard, results, progress)
        files.save_atomic(shard.path, write)


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
            else:
                what = sources.printable(item.path or item.id)
                reason = " ".join(reason.split())  # One line, no tabs.
                logging.warning("Rejected %s: %s", what, reason)
                rejected.append([what, reason])
            progress.add(1)
    with open(temp, "rb") as f:
        os.fsync(f.fileno())  # On disk before the record says it is done.
    record = dict(num_clips=num_clips, rejected=rejected, digest=shard.digest)
    files.write_atomic(shard.record_path, json.dumps(record))


def _map_in_order(function, jobs, num_workers, if_died):
    """Yields `function(job)` for each job, in order, computed in parallel.

    Workers decode, resize and JPEG-encode (`encode_example`), so the parent
    only writes bytes. They fork from a server process that imported this
    module, and so TF, once: not from this process, which may have run TF
    ops (a fork of it can deadlock), and without an import per worker
    (spawn), which takes seconds each.

    A worker that dies (killed for lack of memory, a crash in FFmpeg) breaks
    the pool and fails every job in flight: those jobs run again in a new
    pool, one at a time, so that the one that kills its worker again is
    found. It yields `if_died`, and the others their results.
    """
    if num_workers == 0:
        yield from map(function, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    todo, suspects = collections.deque(jobs), 0
    while todo:
        with futures.ProcessPoolExecutor(
            num_workers, mp_context=context
        ) as pool:
            suspects = yield from _run_until_broken(
                pool, function, todo, suspects, 4 * num_workers, if_died
            )


def _run_until_broken(pool, function, todo, suspects, window_size, if_died):
    """Runs `todo`'s jobs in `pool` until they are done or the pool breaks.

    Args:
        pool: A `ProcessPoolExecutor`.
        function: The function of a job.
        todo: A deque of jobs, consumed from the left; on a break, the jobs
            in flight are put back at its front.
        suspects: How many jobs at the front of `todo` were in flight when a
            worker died: they run one at a time.
        window_size: Jobs in flight otherwise; a bounded window keeps memory
            flat when one video is slow.
        if_died: What to yield for a suspect whose worker dies.

    Yields:
        The results of the jobs, in order.

    Returns:
        The new count of suspects.
    """
    window = collections.deque()
    while todo or window:
        while todo and len(window) < (1 if suspects else window_size):
            try:
                future = pool.submit(function, todo[0])
            except process.BrokenProcessPool:
                break
            window.append((todo.popleft(), future))
        if not window:  # A worker died between jobs: none is lost.
            return suspects
        job, future = window.popleft()
        try:
            result = future.result()
        except process.BrokenProcessPool:
            if suspects:  # It ran alone: it is the one.
                yield if_died
                return suspects - 1
            todo.extendleft(reversed([job, *(other for other, _ in window)]))
            return 1 + len(window)
        suspects = max(0, suspects - 1)
        yield result
    return suspects


def _encode(job):
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


def _write_summary(output_dir, source, described, shards, options):
    """Writes dataset_info.json and rejected.txt over every complete split."""
    info = dict(
        source=source,
        classes=list(described.classes),
        splits={},
        options=options,
    )
    lines = []
    for split in described.splits:
        records = [_read_record(shard) for shard in shards[split]]
        if None in records:
            continue
        rejected = [entry for record in records for entry in record["rejected"]]
        info["splits"][split] = dict(
            num_clips=sum(record["num_clips"] for record in records),
            num_shards=len(records),
            num_rejected=len(rejected),
        )
        lines += [f"{split}\t{what}\t{reason}\n" for what, reason in rejected]
    files.write_atomic(os.path.join(output_dir, REJECTED_FILE), "".join(lines))
    files.write_atomic(
        os.path.join(output_dir, INFO_FILE), json.dumps(info, indent=2) + "\n"
    )
    logging.info("Prepared %s in %s: %s", source, output_dir, info["splits"])
    return info


def _run_stats(shards, splits, pending, start):
    """Returns the `run` entry of `run`'s result.

    That is the shards written and reused, and the seconds since `start`, a
    `time.time()`.
    """
    return dict(
        shards_written=len(pending),
        shards_reused=sum(len(shards[s]) for s in splits) - len(pending),
        seconds=round(time.time() - start, 1),
    )
