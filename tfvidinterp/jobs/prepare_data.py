"""The job behind `binaries/prepare_data.py`: a source's options by name,
the `--check` report and the end-of-run summary."""

import collections

import numpy as np

from tfvidinterp import errors
from tfvidinterp.data import prepare
from tfvidinterp.data import prepare_progress
from tfvidinterp.data import sources


def run(
    source: str,
    output_dir: str,
    *,
    check: bool = False,
    kth_split: str = "paper",
    synthetic_clips="800,200,200",
    num_frames: int = 16,
    image_size: int = 64,
    seed: int = 0,
    synthetic_background: str = "smooth",
    synthetic_camera: bool = False,
    validation_fraction: float = sources.VALIDATION_FRACTION,
    test_fraction: float = sources.TEST_FRACTION,
    **options,
) -> dict:
    """Decodes `source` into `output_dir` with `prepare.run` and prints a
    summary (`format_summary`); or only checks it.

    Args:
        source: A `tfvidinterp.data.sources.SOURCES` name.
        output_dir: The dataset directory.
        check: Only print what a run would do (`prepare.check`,
            `format_check`); write nothing.
        kth_split: The KTH source's persons per split.
        synthetic_clips: The synthetic source's train, validation and test
            clips ("800,200,200" or a sequence).
        num_frames: Synthetic clip length.
        image_size: Synthetic frame size.
        seed: Synthetic dataset seed.
        synthetic_background: "smooth" or "texture".
        synthetic_camera: Add the synthetic pan classes.
        validation_fraction: The folder source's share of validation videos
            when it has no split folders or column (hashed by path).
        test_fraction: Its share of test videos, likewise.
        **options: `prepare.run`'s `root`, `splits`, `num_shards`,
            `short_side`, `max_frames`, `num_workers`.

    Returns:
        What `prepare.run` returns, or with `check` `prepare.check`.

    Raises:
        errors.InputError: Fractions for a source other than `folder`, or
            what `prepare.run` raises.
    """
    source_options = {
        "synthetic": dict(
            num_clips=synthetic_clips,
            num_frames=num_frames,
            image_size=image_size,
            seed=seed,
            background=synthetic_background,
            camera=synthetic_camera,
        ),
        "kth": dict(subject_split=kth_split),
        "folder": _folder_options(source, validation_fraction, test_fraction),
    }
    options["source_options"] = source_options.get(source, {})
    job = _check if check else _prepare
    return job(source, output_dir, **options)


def _prepare(source, output_dir, **options):
    info = prepare.run(source, output_dir, **options)
    print(format_summary(info, output_dir))
    return info


def _check(source, output_dir, **options):
    report = prepare.check(source, output_dir, **options)
    print(format_check(report))
    return report


def _folder_options(source, validation_fraction, test_fraction):
    """The folder source's options: the fractions unlike its defaults.

    The options are stored and compared on a re-run: leaving the defaults
    out lets a directory prepared before they were options resume.
    """
    options = {}
    if validation_fraction != sources.VALIDATION_FRACTION:
        options["validation_fraction"] = validation_fraction
    if test_fraction != sources.TEST_FRACTION:
        options["test_fraction"] = test_fraction
    if options and source != "folder":
        raise errors.InputError(
            "validation_fraction and test_fraction are options of the folder "
            f"source only, not of {source}"
        )
    return options


def format_summary(info: dict, output_dir: str) -> str:
    """The end of a run: clips per split, and a block of its warnings."""
    counts = ", ".join(
        f"{split} {stats['num_clips']:,}"
        + f" ({stats['num_rejected']:,} rejected)" * bool(stats["num_rejected"])
        for split, stats in info["splits"].items()
    )
    lines = [f"Clips in {output_dir}: {counts}."]
    warnings = info["run"]["warnings"]
    if warnings:
        lines += [
            "",
            "!" * 72,
            f"WARNING: {len(warnings)} split(s) lost more than "
            f"{prepare.REJECTED_SHARE:.0%} of their videos:",
            *(f"  - {warning}" for warning in warnings),
            "!" * 72,
        ]
    return "\n".join(lines)


def format_check(report: dict) -> str:
    """`prepare.check`'s report as a person reads it: the layout found, a
    table of videos and missing ones per split and class, why they are
    missing, the sample, the estimate and any warnings."""
    where = f" under {report['root']}" if report["root"] else ""
    lines = [f"{report['source']}{where} (a check: nothing is written)"]
    lines += [f"  {line}" for line in report["layout"]]
    lines += ["", *_class_table(report), ""]
    for split, found in report["splits"].items():
        if found["missing"]:
            lines.append(
                f"missing in {split}: {found['missing']:,} "
                f"({_reasons(found['missing_reasons'])}), e.g. "
                f"{found['missing_example']}"
            )
    lines += [_sample_line(report["splits"]), _estimate_line(report)]
    lines += [f"WARNING: {warning}" for warning in check_warnings(report)]
    return "\n".join(lines)


def _class_table(report):
    """Rows: a class, then its videos and missing ones in each split."""
    splits = report["splits"]
    width = max(len(name) for name in ["class", *report["classes"]])
    rows = [
        f"{'class':<{width}}"
        + "".join(f"  {split:>7}  missing" for split in splits)
    ]
    totals = [
        (name, [found["classes"][name] for found in splits.values()])
        for name in report["classes"]
    ]
    totals.append(
        ("total", [[f["videos"], f["missing"]] for f in splits.values()])
    )
    for name, counts in totals:
        rows.append(
            f"{name:<{width}}"
            + "".join(
                f"  {videos:>{max(7, len(split))},}  {missing:>7,}"
                for split, (videos, missing) in zip(splits, counts)
            )
        )
    return rows


def _reasons(reasons):
    """`'reason': count, ...` of a {reason: count} dict."""
    return ", ".join(
        f"{reason!r}: {count:,}" for reason, count in reasons.items()
    )


def _sample_line(splits):
    """The sample `check` made clips of: time, size and rejections."""
    samples = [found["sample"] for found in splits.values()]
    seconds = [value for sample in samples for value in sample["seconds"]]
    sizes = [value for sample in samples for value in sample["bytes"]]
    if not seconds:
        return "sample: no video to decode"
    reasons = collections.Counter()
    for sample in samples:
        reasons.update(sample["reasons"])
    line = (
        f"sample: {len(seconds)} videos made into clips as a run would, "
        f"{np.mean(seconds):.3g} s each"
    )
    if sizes:
        line += f", {prepare_progress.format_size(np.mean(sizes))} a clip"
    rejected = sum(reasons.values())
    if rejected:
        return f"{line}; {rejected} rejected ({_reasons(reasons)})"
    return f"{line}; none rejected"


def _estimate_line(report):
    """The estimate of `check`: videos, clips, time and disk."""
    estimate = report["estimate"]
    line = (
        f"estimate: {estimate['videos']:,} videos to decode into about "
        f"{estimate['clips']:,} clips"
    )
    if estimate["seconds"] is not None:
        workers = estimate["workers"]
        duration = prepare_progress.format_duration(estimate["seconds"])
        line += (
            f" in about {duration} with {workers} worker{'s' * (workers != 1)}"
        )
    if estimate["bytes"] is not None:
        line += (
            f", {prepare_progress.format_size(estimate['bytes'])} of TFRecords"
        )
    if estimate["free_bytes"] is not None:
        line += (
            f" ({prepare_progress.format_size(estimate['free_bytes'])} free)"
        )
    return line


def check_warnings(report: dict) -> list:
    """What in `prepare.check`'s report a run would regret: a split with no
    video to decode (the run would stop with an error), one that misses or
    the sample of which rejects more than `prepare.REJECTED_SHARE`, a disk
    too small."""
    warnings, share = [], prepare.REJECTED_SHARE
    for split, found in report["splits"].items():
        videos, missing = found["videos"], found["missing"]
        if videos == missing:
            warnings.append(f"{split} has no video to decode: a run fails")
        elif missing > share * videos:
            warnings.append(
                f"{split}: {missing:,} of {videos:,} videos missing "
                f"({missing / videos:.0%})"
            )
        sample = found["sample"]
        if sample["rejected"] > share * len(sample["ids"]):
            warnings.append(
                f"{split}: {sample['rejected']} of the {len(sample['ids'])} "
                "sampled videos rejected; expect as much of the run"
            )
    estimate = report["estimate"]
    if (estimate["bytes"] or 0) > (estimate["free_bytes"] or float("inf")):
        need, free = (
            prepare_progress.format_size(estimate[key])
            for key in ("bytes", "free_bytes")
        )
        warnings.append(
            f"the clips need about {need}, more than the {free} free"
        )
    return warnings
