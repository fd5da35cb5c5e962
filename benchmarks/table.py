"""Result rows, the printed table, the device description and the JSON file.

A row compares one measured rate with its baseline rate in the same unit:
`ratio = measured / baseline`, met when `ratio >= target` (rows without a
target are context: a gain or a share, not a promise).
"""

import os
import platform

import keras
import tensorflow as tf

COLUMNS = ("name", "measured", "baseline", "ratio", "target", "met?")
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def row(name, measured, baseline, unit, target=None, note="") -> dict:
    """One line of the table.

    Args:
        name: What is measured against what.
        measured: The measured rate, e.g. clips/s.
        baseline: The baseline rate, same unit.
        unit: The unit of both, e.g. "clips/s" or "FLOP/s".
        target: Minimum ratio to meet, or None.
        note: How the figures were obtained, when not obvious.

    Returns:
        A dict with `name`, `measured`, `baseline`, `unit`, `ratio`,
        `target`, `met` (None without a target) and `note`.
    """
    ratio = measured / baseline
    return dict(
        name=name,
        measured=measured,
        baseline=baseline,
        unit=unit,
        ratio=ratio,
        target=target,
        met=None if target is None else bool(ratio >= target),
        note=note,
    )


def format_value(value: float, unit: str) -> str:
    """`1.5e9, "FLOP/s"` -> `"1.50 GFLOP/s"`; small rates keep 3 digits."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def format_table(rows) -> str:
    """The rows as an aligned plain-text table, notes below it."""
    lines = [COLUMNS]
    for entry in rows:
        target = entry["target"]
        lines.append(
            (
                entry["name"],
                format_value(entry["measured"], entry["unit"]),
                format_value(entry["baseline"], entry["unit"]),
                f"{entry['ratio']:.3g}",
                "-" if target is None else f">= {target:g}",
                {None: "-", True: "yes", False: "NO"}[entry["met"]],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths))
        for line in lines
    ]
    text.insert(1, "  ".join("-" * width for width in widths))
    notes = [
        f"  [{i}] {entry['name']}: {entry['note']}"
        for i, entry in enumerate(rows, start=1)
        if entry["note"]
    ]
    return "\n".join(text + (["Notes:"] + notes if notes else []))


def device_info() -> dict:
    """What the numbers were measured on.

    Returns:
        `devices` (TensorFlow's physical devices, with a GPU's name),
        `cpu` (model name from /proc/cpuinfo), `cpu_count`, `tensorflow`,
        `keras`, `python` versions.
    """
    devices = []
    for device in tf.config.list_physical_devices():
        details = tf.config.experimental.get_device_details(device)
        devices.append(
            dict(
                name=device.name,
                type=device.device_type,
                model=details.get("device_name", ""),
            )
        )
    return dict(
        devices=devices,
        cpu=_cpu_model(),
        cpu_count=os.cpu_count(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        python=platform.python_version(),
    )


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
