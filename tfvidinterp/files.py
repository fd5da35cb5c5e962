"""Writing files so that a reader never sees a partial one, JSON, and
file names made from arbitrary text."""

import hashlib
import json
import math
import os
import re
import shutil
import tempfile

import numpy as np

from tfvidinterp import errors


def write_atomic(filename: str, data, mode="w"):
    """Writes `data` (str, or bytes with mode "wb") to `filename` so that a
    reader sees the old file or the whole new one (`save_atomic`)."""

    def write(path):
        with open(path, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    save_atomic(filename, write)


def save_atomic(filename: str, save):
    """Runs `save(path)` on a new temporary path beside `filename`, then
    renames that path to `filename`.

    The rename replaces the file in one step, so a reader or a kill never
    leaves a partial `filename`. The temporary name is unique (concurrent
    writers do not share it) and ends like `filename` (`model.save` needs
    its ".keras"); the file gets the mode a plain `open` gives (0666 less
    the umask), not the 0600 of `tempfile.mkstemp`. On an error the
    temporary file is removed and `filename` is left as it was.

    Args:
        filename: The file to write.
        save: Function of a path that writes the file there.
    """
    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(
        dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(filename)
    )
    os.close(fd)
    try:
        save(temp)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, filename)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def save_directory_atomic(path: str, save):
    """Runs `save(directory)` on a new temporary directory beside `path`,
    then puts it at `path`, replacing an existing directory.

    A directory cannot be replaced in one rename: the old one is moved
    aside first and deleted after the new one is in place, so `path` holds
    a complete old or new directory except between two renames.

    Raises:
        errors.InputError: `path` is an existing file.
    """
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise errors.InputError(f"{path} is a file, not a directory")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=parent)
    try:
        save(temp)
        if os.path.isdir(path):
            old = temp + ".old"
            os.replace(path, old)
            os.replace(temp, path)
            shutil.rmtree(old)
        else:
            os.replace(temp, path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _umask() -> int:
    # The only portable way to read the umask is to set it.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(filename: str, value):
    """Writes `value` as indented JSON, atomically."""
    write_atomic(filename, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json_object(filename: str) -> dict | None:
    """The JSON object in `filename`; None where there is no such file.

    Raises:
        errors.InputError: The file cannot be read, is not JSON, or holds
            something other than an object.
    """
    if not os.path.exists(filename):
        return None
    try:
        with open(filename) as f:
            value = json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"cannot read {filename}: {error}") from None
    if not isinstance(value, dict):
        raise errors.InputError(f"{filename} is not a JSON object")
    return value


def as_json(value):
    """`value` as JSON would store it: tuples become lists, keys strings."""
    return json.loads(json.dumps(value))


def jsonable(value, digits: int | None = None):
    """`value` as plain JSON types: NumPy numbers become Python ones, NaN and
    infinities become None, and floats are rounded to `digits` if given."""
    if isinstance(value, dict):
        return {k: jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, digits) for v in value]
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        return float(value) if digits is None else round(float(value), digits)
    if isinstance(value, np.integer):
        return int(value)
    return value


# Bytes of a name: far below the 255 of common file systems, leaving room
# for the hash, an extension and a temporary prefix.
_NAME_BYTES = 100
_HASHED = re.compile(r"-[0-9a-f]{8}$")


def safe_name(name: str) -> str:
    """A file name for `name`, readable where possible and one-to-one.

    A name of at most 100 characters of `[A-Za-z0-9._-]` that does not start
    with "." and does not end like a hashed name is kept as it is. Any other
    becomes its readable part (runs of other characters as one "_", cut to
    100 characters, without "." or "_" at its ends) plus "-" and 8 hex
    digits of its SHA-1, so that names
    differing only in the replaced characters, such as "a b" and "a_b",
    stay apart.
    """
    if re.fullmatch(
        r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,%d}" % (_NAME_BYTES - 1), name
    ) and not _HASHED.search(name):
        return name
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:_NAME_BYTES]
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape"))
    return f"{readable.strip('._')}-{digest.hexdigest()[:8]}"
