"""Resumable stages of a job, recorded in a state file in its directory.

The state file (JSON, written atomically) holds the job's options and, per
stage, a fingerprint of its inputs and of the runs of the stages it reads,
the id of its run, the parts done, whether it finished and the seconds its
parts took. `Stages.run` skips a finished stage whose files are all there,
resumes an unfinished one of the same fingerprint (doing the parts not yet
done), and otherwise redoes it from scratch: it deletes the stage's outputs,
then gives it a new run id, which changes the fingerprint of every stage
that reads it, so those are redone too.
"""

import hashlib
import json
import os
import shutil
import time
import typing
import uuid

from tfvidinterp import errors
from tfvidinterp import files

SKIPPED, RESUMED, DONE = "done before, skipped", "resumed", "done"
_FORMAT = "tfvidinterp-stages-1"


class Part(typing.NamedTuple):
    """A unit of a stage: `function()` does it and leaves `files`."""

    name: str
    function: typing.Callable[[], object]
    files: tuple = ()


class Stages:
    """A job's stages, done, skipped or resumed as its state file says.

    Opening checks the directory: missing, empty, or holding the state file.

    Args:
        directory: The job's directory.
        state_file: The state file's name in it.
        options: The job's options (JSON), recorded in the state file.
        fresh: Delete `outputs` (and those a previous run recorded) and the
            state file first.
        outputs: Names in `directory` that the job writes.

    Raises:
        errors.InputError: `directory` is a file, or holds files but no
            state file, or the state file cannot be written.

    Example:
        job = stages.Stages("runs/demo", "state.json", {"clips": 16})
        job.run("data", inputs=[16], parts=[stages.Part("data", make)],
                outputs=["runs/demo/data"])
    """

    def __init__(
        self,
        directory: str,
        state_file: str,
        options,
        *,
        fresh: bool = False,
        outputs=(),
    ):
        self._path = os.path.join(directory, state_file)
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise errors.InputError(f"{directory} is a file")
        if (
            os.path.isdir(directory)
            and os.listdir(directory)
            and not os.path.exists(self._path)
        ):
            raise errors.InputError(
                f"{directory} is not empty and has no {state_file}: not this "
                "job's directory; choose another"
            )
        state = _read(self._path)
        self._directory = directory
        if fresh:
            names = {*outputs, *state.get("outputs", ()), state_file}
            # All checked before any is deleted: a state file naming a path
            # outside the directory deletes nothing.
            paths = [self._inside(os.path.join(directory, n)) for n in names]
            for path in paths:
                _remove(path)
            state = {}
        self.state = state or {"format": _FORMAT, "stages": {}}
        # As JSON stores them, so a re-run compares like with like.
        recorded = json.loads(
            json.dumps({"options": options, "outputs": sorted(outputs)})
        )
        if any(self.state.get(k) != v for k, v in recorded.items()):
            self.state.update(recorded)
            self._save()

    def run(self, stage: str, inputs, parts, outputs=(), after=()) -> str:
        """Skips, resumes or (re)does `stage`.

        Args:
            stage: The stage's name.
            inputs: What its results depend on (JSON), besides `after`.
            parts: Its `Part`s, done in order; a part recorded as done whose
                files are all there is not done again.
            outputs: Paths deleted before the stage is redone from scratch.
            after: The stages whose outputs it reads, already run.

        Returns:
            `SKIPPED`, `RESUMED` or `DONE`.
        """
        stages = self.state["stages"]
        fingerprint = _fingerprint(
            [inputs, {name: stages[name]["run_id"] for name in after}]
        )
        entry = stages.get(stage)
        same = entry is not None and entry["fingerprint"] == fingerprint
        present = all(os.path.exists(f) for part in parts for f in part.files)
        if same and entry["finished"] and present:
            return SKIPPED
        status = RESUMED if same and not entry["finished"] else DONE
        if status == DONE:
            # Deleted before the new entry is saved: a kill in between
            # leaves the old entry, which still asks for a redo.
            for path in [self._inside(path) for path in outputs]:
                _remove(path)
            entry = stages[stage] = {
                "fingerprint": fingerprint,
                "run_id": uuid.uuid4().hex,
                "finished": False,
                "parts": [],
                "seconds": 0.0,
            }
            self._save()
        for part in parts:
            if part.name in entry["parts"] and all(
                map(os.path.exists, part.files)
            ):
                continue
            start = time.time()
            part.function()
            entry["parts"] = sorted({*entry["parts"], part.name})
            entry["seconds"] = round(entry["seconds"] + time.time() - start, 1)
            self._save()
        entry["finished"] = True
        self._save()
        return status

    def seconds(self) -> dict:
        """Seconds each recorded stage's parts took, over every run."""
        return {
            name: entry["seconds"]
            for name, entry in self.state["stages"].items()
        }

    def _inside(self, path):
        """`path`, after refusing one that is not inside the directory.

        Real paths are compared, so neither `..` nor a symbolic link on the
        way leads a deletion out; a link itself inside is removed as a link.

        Raises:
            errors.InputError: `path` is the directory itself or outside it.
        """
        root = os.path.realpath(self._directory)
        parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
        name = os.path.basename(os.path.abspath(path))
        inside = os.path.commonpath([root, parent]) == root
        if not inside or name in ("", ".", ".."):
            raise errors.InputError(
                f"{path} is not inside {self._directory}: not deleted; "
                f"delete {self._directory} by hand if it is this job's"
            )
        return os.path.join(parent, name)

    def _save(self):
        try:
            files.write_json(self._path, self.state)
        except OSError as error:
            raise errors.InputError(
                f"cannot write {self._path}: {error}"
            ) from None


def _read(path):
    """The state in `path`; {} if missing, unreadable or not a state."""
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {}
    if (
        isinstance(state, dict)
        and state.get("format") == _FORMAT
        and isinstance(state.get("stages"), dict)
        and isinstance(state.get("outputs", []), list)
        and all(isinstance(name, str) for name in state.get("outputs", []))
    ):
        return state
    return {}


def _fingerprint(value):
    text = json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _remove(path):
    # A link goes, never what it points to (rmtree refuses links anyway).
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
