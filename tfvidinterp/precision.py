"""The mixed-precision policy a run trains under, with "auto" per machine.

`train.mixed_precision="auto"` picks `mixed_bfloat16` on a CPU-only machine
whose CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX, the Linux
flags `avx512_bf16` and `amx_bf16`), and float32 anywhere else: there the
bfloat16 kernels are emulated (slower than float32), and on GPUs the trade
is unmeasured. On such a CPU (AVX-512 BF16) the full-width I3D's train
step ran 1.60-1.88x and its mask step 1.49-1.86x faster in bfloat16, and
the synthetic I3D reached its target in as many steps as in float32 within
the seeds' spread (docs/experiments/2026-12-03-bf16.md).
"""

import tensorflow as tf

AUTO = "auto"
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
