"""What lets `prepare.run` resume and keeps two runs of one dataset
directory apart, in its `.prepare/` folder: the lock a run holds, the
options the directory was made with, each shard's record (its clip count,
rejections and the digest of its items; written after the shard), and the
partial files a killed run leaves."""

import contextlib
import dataclasses
import fcntl
import glob
import hashlib
import json
import os

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import tfrecord

STATE_DIR = ".prepare"
LOCK_FILE = "lock"  # In STATE_DIR.
# The prefix of `files.save_atomic`'s temporary names.
_TEMP_PREFIX = ".tmp-"


@dataclasses.dataclass(frozen=True)
class Shard:
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


@contextlib.contextmanager
def lock(output_dir):
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


def remove_temporary_files(output_dir):
    """Removes the partial files of a killed run (under the lock)."""
    for folder in (output_dir, os.path.join(output_dir, STATE_DIR)):
        for name in os.listdir(folder):
            # `<shard>.tmp`: the fixed temporary name of earlier versions.
            if name.startswith(_TEMP_PREFIX) or name.endswith(".tfrecord.tmp"):
                os.remove(os.path.join(folder, name))


def claim(output_dir, options):
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


def read_record(shard):
    """Returns the record of a complete shard, else None."""
    if not (os.path.exists(shard.path) and os.path.exists(shard.record_path)):
        return None
    with open(shard.record_path) as f:
        record = json.load(f)
    return record if record.get("digest") == shard.digest else None


def check_stale(output_dir, splits, shards):
    for split in splits:
        expected = {shard.path for shard in shards[split]}
        found = glob.glob(tfrecord.shard_pattern(output_dir, split))
        stale = sorted(set(found) - expected)
        if stale:
            raise errors.InputError(
                f"{stale[0]} is not part of this run (another num_shards or "
                "source?); use a new output directory"
            )
