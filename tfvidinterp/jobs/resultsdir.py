"""The explain results directory: its files, resumable writing and merging.

A results directory `<dir>` (docs/formats.md, read by
`tfvidinterp.jobs.compare`) holds:

* `meta.json`: the run, model, dataset, classes, split and parameters;
* `gradcam/<id>.npz`: `heatmaps` (T, H, W) float16 in [0, 1] and the
  model's input `frames` (T, H, W, 3) uint8;
* `results.jsonl`: one JSON line per clip, appended and synced a batch at a
  time, so a killed run resumes without redoing or duplicating clips.

Worker k of n writes `results-<k>-of-<n>.jsonl` instead and, when it has
finished, `results-<k>-of-<n>.done`; `merge_shards` then gathers every shard
into `results.jsonl`.
"""

import io
import json
import os
import re

import numpy as np

from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp import files

RESULTS = "results.jsonl"
META = "meta.json"
FAITHFULNESS = "faithfulness.json"  # Written by binaries.faithfulness.
GRADCAM = "gradcam"
_SHARD_FILE = re.compile(r"results-(\d+)-of-(\d+)\.jsonl")


def write_meta(output_dir: str, meta: dict):
    """Writes `meta.json`, refusing a directory of other parameters.

    Args:
        output_dir: The results directory; created if missing.
        meta: `{"run", "model_name", "dataset", "classes", "split",
            "params"}`.

    Raises:
        errors.InputError: `output_dir` holds a `meta.json` that differs
            from `meta` in anything but `run`.
    """
    path = os.path.join(output_dir, META)
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        new = files.as_json(meta)
        changed = [k for k in new if k != "run" and old.get(k) != new[k]]
        if changed:
            raise errors.InputError(
                f"{output_dir} holds results made with another "
                f"{', '.join(changed)}; choose another output_dir"
            )
    files.write_json(path, meta)


def write_gradcam(output_dir: str, clip_id: str, heatmaps, frames) -> str:
    """Writes a clip's `gradcam/<id>.npz` atomically.

    Args:
        output_dir: The results directory.
        clip_id: The clip's id (made safe for a file name).
        heatmaps: `(T, H, W)` Grad-CAM maps in [0, 1], stored as float16.
        frames: `(T, H, W, 3)` uint8 RGB, the model's input clip.

    Returns:
        The file's path relative to `output_dir`, as records give it.
    """
    file = f"{GRADCAM}/{files.safe_name(clip_id)}.npz"
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, heatmaps=np.asarray(heatmaps, np.float16), frames=frames
    )
    files.write_atomic(os.path.join(output_dir, file), buffer.getvalue(), "wb")
    return file


def shard_files(
    output_dir: str, shard_index: int = 0, num_shards: int = 1
) -> tuple[str, str]:
    """`(results file, done marker)` of a worker: `results.jsonl` alone, or
    `results-<k>-of-<n>.jsonl` and `.done` for shard k of n > 1."""
    name = (
        f"results-{shard_index}-of-{num_shards}"
        if num_shards > 1
        else "results"
    )
    return (
        os.path.join(output_dir, name + ".jsonl"),
        os.path.join(output_dir, name + ".done"),
    )


def worker_shard(
    shard_index: int | None = None, num_shards: int | None = None
) -> tuple[int, int]:
    """This worker's `(shard_index, num_shards)`.

    Args:
        shard_index: The shard, with `num_shards`; both None: from
            `TF_CONFIG` (its chief and workers, in that order, are the
            shards), else 0 of 1.
        num_shards: Number of workers sharing the clips.

    Raises:
        errors.InputError: Only one of the two, an index out of range, or a
            `TF_CONFIG` that is not JSON or names another task type.
    """
    if shard_index is None and num_shards is None:
        try:
            cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get(
                "cluster", {}
            )
        except ValueError:
            raise errors.InputError("TF_CONFIG is not JSON") from None
        chiefs = len(cluster.get("chief", []))
        workers = chiefs + len(cluster.get("worker", []))
        if workers < 2:
            return 0, 1
        task_type, index = distribute.task()
        if task_type not in ("chief", "worker"):
            raise errors.InputError(
                f"TF_CONFIG task {task_type!r} is neither chief nor worker"
            )
        return index + (chiefs if task_type == "worker" else 0), workers
    if shard_index is None or num_shards is None:
        raise errors.InputError("give both shard_index and num_shards")
    if not 0 <= shard_index < num_shards:
        raise errors.InputError(
            f"shard_index {shard_index} is not in [0, {num_shards})"
        )
    return shard_index, num_shards


def resume(
    output_dir: str, shard_index: int = 0, num_shards: int = 1
) -> tuple[str, str, set]:
    """Readies a worker's results file to be appended to.

    A shard also counts the clips already merged into `results.jsonl` as
    done, and loses its done marker until it has finished again.

    Returns:
        `(results file, done marker, ids already done)` (`shard_files`,
        `done_ids`).

    Raises:
        errors.InputError: A results file holding something else.
    """
    results_file, marker = shard_files(output_dir, shard_index, num_shards)
    done = done_ids(results_file)
    if num_shards > 1:
        done |= done_ids(os.path.join(output_dir, RESULTS))
        if os.path.exists(marker):
            os.remove(marker)
    return results_file, marker, done


def done_ids(path: str) -> set:
    """Ids in a results file, after cutting a last line a kill left partial.

    Raises:
        errors.InputError: A complete line that is not a results record.
    """
    if not os.path.exists(path):
        return set()
    with open(path, "rb+") as f:
        data = f.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            f.truncate(end)
    ids = set()
    for number, line in enumerate(data[:end].splitlines(), 1):
        try:
            ids.add(json.loads(line)["id"])
        except (ValueError, KeyError, TypeError):
            raise errors.InputError(
                f"{path} line {number} is not a results record"
            ) from None
    return ids


def append_records(results, records):
    """Appends `records` (dicts) as JSON lines to the open file `results`,
    then flushes and syncs them, so a kill loses at most a partial line.
    The lines are strict JSON: NaN and infinities become null."""
    results.write(
        "".join(
            json.dumps(files.jsonable(r), allow_nan=False) + "\n"
            for r in records
        )
    )
    results.flush()
    os.fsync(results.fileno())


def merge_shards(output_dir: str) -> bool:
    """Gathers the results of finished shards into `results.jsonl`.

    When every shard `k` of some `n` has its `results-<k>-of-<n>.done`
    marker, the records of their `results-<k>-of-<n>.jsonl` whose ids
    `results.jsonl` lacks are added to it, in the evaluation order (shard
    files interleaved round-robin); existing lines are kept as they are.
    Merging again adds nothing, so every run calls it at its end and the
    last shard to finish does the merge. The shard files are kept: a shard
    re-run resumes from its own file.

    Args:
        output_dir: A results directory.

    Returns:
        Whether `results.jsonl` was rewritten.

    Raises:
        errors.InputError: `output_dir` is not a directory.
    """
    if not os.path.isdir(output_dir):
        raise errors.InputError(f"no results directory {output_dir}")
    groups = {}
    for name in os.listdir(output_dir):
        match = _SHARD_FILE.fullmatch(name)
        if match:
            groups.setdefault(int(match[2]), set()).add(int(match[1]))
    path = os.path.join(output_dir, RESULTS)
    lines = _complete_lines(path)
    seen = {json.loads(line)["id"] for line in lines}
    added = False
    for count, shards in sorted(groups.items()):
        pairs = [shard_files(output_dir, k, count) for k in range(count)]
        if shards != set(range(count)) or not all(
            os.path.exists(marker) for _, marker in pairs
        ):
            continue
        shard_lines = [_complete_lines(file) for file, _ in pairs]
        for row in range(max(map(len, shard_lines))):
            for rows in shard_lines:
                if row < len(rows):
                    clip_id = json.loads(rows[row])["id"]
                    if clip_id not in seen:
                        seen.add(clip_id)
                        lines.append(rows[row])
                        added = True
    if added:
        files.write_atomic(path, "".join(lines))
    return added


def _complete_lines(path):
    """The `\\n`-ended lines of a results file; [] if there is none."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f if line.endswith("\n")]


def load_results(directory: str) -> dict:
    """Reads an `explain` results directory.

    Returns:
        `{"dir", "meta", "records"}`: `meta.json` and the records of
        `results.jsonl`, the last one per clip id. A final line cut short by
        an interrupted run is skipped.

    Raises:
        errors.InputError: A missing or unreadable file, or no clips.
    """
    try:
        with open(os.path.join(directory, META)) as f:
            meta = json.load(f)
        with open(os.path.join(directory, RESULTS)) as f:
            lines = f.read().splitlines()
    except (OSError, ValueError) as error:
        raise errors.InputError(
            f"cannot read results in {directory}: {error}"
        ) from None
    records = {}
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise errors.InputError(
                f"{directory}/results.jsonl line {number} is not JSON"
            ) from None
        records[record["id"]] = record
    if not records:
        raise errors.InputError(f"no explained clips in {directory}")
    return {"dir": directory, "meta": meta, "records": list(records.values())}


def load_faithfulness(directory: str):
    """The `faithfulness.json` of a results directory, None if it has none.

    Raises:
        errors.InputError: The file is not JSON.
    """
    path = os.path.join(directory, FAITHFULNESS)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"cannot read {path}: {error}") from None


def read_gradcam(directory: str, record: dict) -> dict:
    """A clip's `gradcam/<id>.npz`: `heatmaps` (T, H, W) float32 and
    `frames` (T, H, W, 3) uint8.

    Raises:
        errors.InputError: A missing or unreadable file.
    """
    path = os.path.join(directory, record["gradcam"]["file"])
    try:
        with np.load(path) as data:
            return {
                "heatmaps": data["heatmaps"].astype(np.float32),
                "frames": data["frames"],
            }
    except (OSError, KeyError, ValueError) as error:
        raise errors.InputError(
            f"cannot read Grad-CAM maps {path}: {error}"
        ) from None
