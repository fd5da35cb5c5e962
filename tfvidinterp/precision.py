"""The mixed-precision policy a run trains under, with "auto" per machine.

`train.mixed_precision="auto"` picks `mixed_bfloat16` on a CPU-only machine
whose CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX, the Linux
flags `avx512_bf16` and `amx_bf16`), and float32 anywhere else: there the
bfloat16 kernels are emulated (slower than float32), and on GPUs the trade
is unmeasured. On such a CPU (AVX-512 BF16) the full-width I3D's train
step ran 1.60-1.88x and its mask step 1.49-1.86x faster in bfloat16, and
the synthetic I3D reached its target in as many steps as in float32 within
the seeds' spread (docs/experiments/2026-12-03-bf16.md).

The jobs that read a run (evaluate, explain, export, faithfulness) rebuild
its model under the same policy (`of_run`, `scope`), so that explaining a
run trained in bfloat16 gets the mask loop's bfloat16 speed; `--precision`
picks another (docs/experiments/2026-12-03-explain-precision.md).
"""

import contextlib

import keras
import tensorflow as tf

from tfvidinterp import errors

AUTO = "auto"
# `of_run`'s choices: the run's own policy, or one of these.
RUN = "run"
FLOAT32 = "float32"
POLICIES = (FLOAT32, "mixed_bfloat16", "mixed_float16")
CHOICES = (RUN,) + POLICIES
# /proc/cpuinfo flags of bfloat16 matrix hardware: AVX-512 BF16 (Cooper
# Lake, Zen 4) and AMX (Sapphire Rapids).
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = "/proc/cpuinfo"


def cpu_flags(path: str = CPUINFO) -> set:
    """The CPU feature flags in `path` (Linux `/proc/cpuinfo`); none where
    the file is missing (another OS)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return set()
    flags = set()
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
    return flags


def resolve(policy: str, flags=None, gpus=None) -> str:
    """The Keras policy name of `train.mixed_precision` (`""`: float32).

    Args:
        policy: `""`, a Keras policy name, or `AUTO`.
        flags: CPU flags (default: `cpu_flags()`).
        gpus: Visible GPUs (default: TensorFlow's physical GPU devices).

    Returns:
        `policy` unless it is `AUTO`; for `AUTO`, `"mixed_bfloat16"` on a
        machine without GPUs whose CPU has one of `BFLOAT16_FLAGS`, else
        `""`.
    """
    if policy != AUTO:
        return policy
    if gpus is None:
        gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return ""
    flags = cpu_flags() if flags is None else flags
    return "mixed_bfloat16" if flags & set(BFLOAT16_FLAGS) else ""


def of_run(trained: str, choice: str = RUN) -> str:
    """The Keras policy a job builds a run's model under.

    Args:
        trained: The run's `train.mixed_precision` (`""`, a policy name or
            `AUTO`).
        choice: `RUN` for the run's own policy, as `resolve` makes it on
            this machine; or one of `POLICIES`.

    Returns:
        A name of `POLICIES`.

    Raises:
        errors.InputError: A `choice` not in `CHOICES`.
    """
    if choice not in CHOICES:
        raise errors.InputError(
            f"unknown precision {choice!r}; known: {', '.join(CHOICES)}"
        )
    if choice != RUN:
        return choice
    return resolve(trained) or FLOAT32


@contextlib.contextmanager
def scope(policy: str):
    """Sets Keras's global dtype policy to `policy` (`""`: float32) and
    restores the one before on leaving: the layers built inside compute in
    it, and those built after (an explainer's) do not."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy or FLOAT32)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
