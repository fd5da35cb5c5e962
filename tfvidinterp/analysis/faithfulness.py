"""Faithfulness measures of one clip's explanations against its ground truth.

Pure NumPy functions of a temporal mask, Grad-CAM maps, the event window and
the object boxes; `tfvidinterp.faithfulness` runs the models and pools them
over clips. The pointing game is from Zhang et al., "Top-down Neural
Attention by Excitation Backprop", ECCV 2016,
https://arxiv.org/abs/1608.00507; deletion and insertion from Petsiuk et al.,
"RISE", BMVC 2018, https://arxiv.org/abs/1806.07421, here in time; the
sanity check from Adebayo et al., "Sanity Checks for Saliency Maps",
NeurIPS 2018, https://arxiv.org/abs/1810.03292.
"""

import numpy as np
from scipy import stats

FILE = "faithfulness.json"  # Written into the explain results directory.
# Issue #6's targets: learned mask IoU at least this much above random ...
MASK_IOU_MARGIN = 0.2
# ... and maps of a random-weight model correlating below this (Spearman).
SANITY_BOUND = 0.5


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


def default_tolerance(height: int, width: int) -> int:
    """The pointing game's tolerance: 5 % of the shorter side, at least 1 px."""
    return max(1, round(0.05 * min(height, width)))


def peak(heatmap):
    """Where a map peaks, in pixel coordinates (pixel `(i, j)` spans
    `[i, i + 1) x [j, j + 1)`).

    Several pixels often share the maximum: a coarse map up-sampled
    bilinearly is flat near the frame's border, and float16 storage rounds
    neighbours to one value. `argmax` would take the plateau's first pixel
    in raster order, a bias to the top left; the centroid of the tied
    pixels is the plateau's centre.

    Args:
        heatmap: `(H, W)` non-negative map.

    Returns:
        `(y, x)` floats, or None for an all-zero map (it points nowhere).
    """
    heatmap = np.asarray(heatmap, np.float32)
    top = heatmap.max()
    if top <= 0:
        return None
    rows, cols = np.nonzero(heatmap == top)
    return float(rows.mean() + 0.5), float(cols.mean() + 0.5)


def in_boxes(point, boxes, valid, height, width, tolerance) -> bool:
    """Whether `point` lies in a valid box grown by `tolerance` pixels.

    Args:
        point: `(y, x)` in pixels as from `peak`, or None (never inside).
        boxes: `(objects, 4)` normalised `(ymin, xmin, ymax, xmax)`.
        valid: `(objects,)` bool.
        height: Frame height in pixels.
        width: Frame width in pixels.
        tolerance: Pixels added on each side of every box.

    Returns:
        True for a hit.
    """
    if point is None:
        return False
    y, x = point
    boxes = np.asarray(boxes, np.float64)[np.asarray(valid, bool)]
    ymin, xmin, ymax, xmax = (boxes * [height, width, height, width]).T
    return bool(np.any(
        (ymin - tolerance <= y) & (y <= ymax + tolerance)
        & (xmin - tolerance <= x) & (x <= xmax + tolerance)))


def pointing_game(heatmaps, event, boxes, valid, tolerance) -> dict:
    """The pointing game of one clip, for its maps and for the frame centre.

    Args:
        heatmaps: `(T, H, W)` Grad-CAM maps.
        event: `(T,)` 0/1, the event window.
        boxes: `(T, objects, 4)` normalised boxes.
        valid: `(T, objects)` bool.
        tolerance: Pixels added on each side of every box.

    Returns:
        `{"hits", "centre_hits", "frames"}`: counts over the event frames
        with at least one valid box.
    """
    heatmaps = np.asarray(heatmaps)
    _, height, width = heatmaps.shape
    frames = np.flatnonzero(np.asarray(event, bool)
                            & np.asarray(valid, bool).any(1))
    centre = (height / 2, width / 2)
    hits = [(in_boxes(peak(heatmaps[t]), boxes[t], valid[t], height, width,
                      tolerance),
             in_boxes(centre, boxes[t], valid[t], height, width, tolerance))
            for t in frames]
    hits = np.array(hits, bool).reshape(-1, 2)
    return {"hits": int(hits[:, 0].sum()),
            "centre_hits": int(hits[:, 1].sum()), "frames": len(frames)}


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


def spearman(a, b) -> float:
    """Spearman's rank correlation of two maps, flattened; NaN if either is
    constant (no ranking to compare)."""
    a = np.ravel(np.asarray(a, np.float64))
    b = np.ravel(np.asarray(b, np.float64))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def pooled_mask_iou(records) -> dict:
    """Mean temporal IoU of the records' binary masks with their windows.

    Args:
        records: `explain` results records with `ground_truth`.

    Returns:
        `{"learned", "random", "difference"}`: the mean IoU of the masks,
        of their `random_run_iou` baselines, and learned minus random; NaN
        without records.
    """
    learned, random = np.array([
        (temporal_iou(r["mask"]["binary_mask"], r["ground_truth"]["event"]),
         random_run_iou(sum(r["mask"]["binary_mask"]),
                        r["ground_truth"]["event"]))
        for r in records]).reshape(-1, 2).T
    learned, random = finite_mean(learned), finite_mean(random)
    return {"learned": learned, "random": random,
            "difference": learned - random}


def pooled_pointing_game(records, heatmaps, tolerance) -> dict:
    """Pointing-game hit rates pooled over every eligible frame of `records`.

    Args:
        records: `explain` results records with `ground_truth`.
        heatmaps: `{id: (T, H, W) map}` of the records.
        tolerance: Pixels added on each side of every box.

    Returns:
        `{"gradcam", "centre"}`: hit rates of the maps' peaks and of the
        frame centre (NaN without frames); `"frames"`; `"tolerance_px"`.
    """
    games = [pointing_game(
        heatmaps[r["id"]], r["ground_truth"]["event"],
        np.array(r["ground_truth"]["boxes"]),
        np.array(r["ground_truth"]["box_valid"]), tolerance)
        for r in records]
    frames = sum(g["frames"] for g in games)
    hits, centre = (sum(g[key] for g in games)
                    for key in ("hits", "centre_hits"))
    return {"gradcam": hits / frames if frames else np.nan,
            "centre": centre / frames if frames else np.nan,
            "frames": frames, "tolerance_px": tolerance}


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
    profiles = [time_profile(heatmaps[r["id"]], r["ground_truth"]["event"])
                for r in records]
    pooled = {key: finite_mean([p[key] for p in profiles])
              for key in ("inside", "outside", "mass_inside",
                          "window_fraction")}
    pooled["ratio"] = (pooled["inside"] / pooled["outside"]
                       if pooled["outside"] else np.nan)
    return pooled


def targets(result: dict) -> dict:
    """Issue #6's targets, True or False; None where a value is missing.

    Args:
        result: The measures, as `tfvidinterp.faithfulness.run` returns
            them.

    Returns:
        `{"mask_iou": learned - random >= MASK_IOU_MARGIN, "pointing_game":
        Grad-CAM above the centre, "deletion": learned below random,
        "sanity": Spearman below SANITY_BOUND}`.
    """

    def check(test, *values):
        if any(v is None or not np.isfinite(v) for v in values):
            return None
        return bool(test(*values))

    point, deletion = result["pointing_game"], result["deletion"]
    return {
        "mask_iou": check(lambda d: d >= MASK_IOU_MARGIN,
                          result["mask_iou"]["difference"]),
        "pointing_game": check(lambda a, b: a > b, point["gradcam"],
                               point["centre"]),
        "deletion": check(lambda a, b: a < b, deletion["learned"],
                          deletion["random"]),
        "sanity": check(lambda s: s < SANITY_BOUND,
                        result["sanity"]["spearman"]),
    }


def finite_mean(values) -> float:
    """The mean of the finite values; NaN if there are none."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
