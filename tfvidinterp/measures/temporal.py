"""When an explanation says the evidence is, against the true event window.

Pure NumPy functions of temporal masks and Grad-CAM maps; the job
`tfvidinterp.jobs.faithfulness` runs the models. Deletion and insertion
orders are from Petsiuk et al., "RISE", BMVC 2018,
https://arxiv.org/abs/1806.07421, here in time.
"""

import numpy as np

from tfvidinterp.measures import statistics


def temporal_iou(mask, event) -> float:
    """Intersection over union of two sets of frames.

    Args:
        mask: `(T,)` 0/1 or bool, e.g. a binary temporal mask.
        event: `(T,)` 0/1 or bool, the frames of the event window.

    Returns:
        `|mask & event| / |mask | event|`; 0 for an empty mask.
    """
    mask = np.asarray(mask, bool)
    event = np.asarray(event, bool)
    if not mask.any():
        return 0.0
    return float(np.sum(mask & event) / np.sum(mask | event))


def random_run_iou(length: int, event) -> float:
    """Expected IoU with `event` of `length` contiguous frames placed at random.

    Exact, not sampled: the mean over all `T - length + 1` placements, each
    equally likely. It is the baseline of a mask that knows how many frames
    to choose but not where.

    Args:
        length: Frames in the run, in `[0, T]`; 0 gives 0, as an empty mask.
        event: `(T,)` 0/1 or bool.

    Returns:
        The expected IoU.
    """
    event = np.asarray(event, bool)
    if length <= 0:
        return 0.0
    frames = np.arange(len(event))
    starts = np.arange(len(event) - length + 1)[:, None]
    runs = (frames >= starts) & (frames < starts + length)
    return float(np.mean(np.sum(runs & event, 1) / np.sum(runs | event, 1)))


def time_profile(heatmaps, event) -> dict:
    """How a clip's Grad-CAM mass spreads over time against its window.

    Args:
        heatmaps: `(T, H, W)` maps.
        event: `(T,)` 0/1, the event window.

    Returns:
        `{"inside", "outside"}`: the mean map value over the window's frames
        and over the other frames (NaN without such frames);
        `"mass_inside"`: the window's share of the map's total (NaN for an
        all-zero map); `"window_fraction"`: the window's share of the frames,
        what `mass_inside` would be for a map uniform in time.
    """
    per_frame = np.asarray(heatmaps, np.float64).reshape(len(event), -1)
    per_frame = per_frame.mean(1)
    event = np.asarray(event, bool)
    total = per_frame.sum()
    return {
        "inside": per_frame[event].mean() if event.any() else np.nan,
        "outside": per_frame[~event].mean() if not event.all() else np.nan,
        "mass_inside": per_frame[event].sum() / total if total else np.nan,
        "window_fraction": float(event.mean()),
    }


def frame_order(mask) -> np.ndarray:
    """Frames by decreasing mask value, ties by index: `(T,)` int."""
    return np.argsort(-np.asarray(mask, np.float64), kind="stable")


def order_masks(order) -> np.ndarray:
    """Binary masks of the first k frames of `order`, for k = 0..T.

    Args:
        order: `(T,)` a permutation of the frames.

    Returns:
        `(T + 1, T)` float32; row k is 1 on `order[:k]`.
    """
    ranks = np.empty(len(order), int)
    ranks[np.asarray(order)] = np.arange(len(order))
    steps = np.arange(len(order) + 1)[:, None]
    return (ranks[None, :] < steps).astype(np.float32)


def pooled_mask_iou(records) -> dict:
    """Mean temporal IoU of the records' binary masks with their windows.

    Args:
        records: `explain` results records with `ground_truth`.

    Returns:
        `{"learned", "random", "difference"}`: the mean IoU of the masks,
        of their `random_run_iou` baselines, and learned minus random; NaN
        without records.
    """
    learned, random = (
        np.array(
            [
                (
                    temporal_iou(
                        r["mask"]["binary_mask"], r["ground_truth"]["event"]
                    ),
                    random_run_iou(
                        sum(r["mask"]["binary_mask"]),
                        r["ground_truth"]["event"],
                    ),
                )
                for r in records
            ]
        )
        .reshape(-1, 2)
        .T
    )
    learned, random = (
        statistics.finite_mean(learned),
        statistics.finite_mean(random),
    )
    return {
        "learned": learned,
        "random": random,
        "difference": learned - random,
    }


def pooled_time_profile(records, heatmaps) -> dict:
    """`time_profile` averaged over the records' clips.

    Args:
        records: `explain` results records with `ground_truth`.
        heatmaps: `{id: (T, H, W) map}` of the records.

    Returns:
        The means over clips of `time_profile`'s values, and `"ratio"`:
        mean inside over mean outside. (A mean of per-clip ratios would be
        infinite as soon as one clip's map is zero outside its window.)
    """
    profiles = [
        time_profile(heatmaps[r["id"]], r["ground_truth"]["event"])
        for r in records
    ]
    pooled = {
        key: statistics.finite_mean([p[key] for p in profiles])
        for key in ("inside", "outside", "mass_inside", "window_fraction")
    }
    pooled["ratio"] = (
        pooled["inside"] / pooled["outside"] if pooled["outside"] else np.nan
    )
    return pooled
