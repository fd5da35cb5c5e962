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
# The targets (README "Faithfulness"): learned mask IoU at least this much
# above a random run's ...
MASK_IOU_MARGIN = 0.2
# ... Grad-CAM's peak on an object this much more often than the frame
# centre's ...
POINTING_MARGIN = 0.15
# ... this many times the boxes' share of the frame in Grad-CAM energy on
# the objects ...
ENERGY_FACTOR = 2.0
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


def box_union(boxes, valid, height, width) -> np.ndarray:
    """The pixels covered by a frame's valid boxes: `(height, width)` bool.

    A pixel `(i, j)` is covered when its centre lies in a box, so the area of
    a box of whole pixels is counted exactly.
    """
    rows = (np.arange(height) + 0.5)[:, None]
    cols = (np.arange(width) + 0.5)[None, :]
    covered = np.zeros((height, width), bool)
    for box in np.asarray(boxes, np.float64)[np.asarray(valid, bool)]:
        ymin, xmin, ymax, xmax = box * [height, width, height, width]
        covered |= ((ymin <= rows) & (rows < ymax)
                    & (xmin <= cols) & (cols < xmax))
    return covered


def energy_in_boxes(heatmaps, event, boxes, valid) -> dict:
    """How much of a clip's map lies on its moving objects.

    Per event frame with a visible object and a non-zero map: the share of
    the map's sum inside the union of the boxes, and the union's share of
    the frame (what a map spread evenly over the frame would score).

    Args:
        heatmaps: `(T, H, W)` non-negative maps.
        event: `(T,)` 0/1, the event window.
        boxes: `(T, objects, 4)` normalised boxes.
        valid: `(T, objects)` bool.

    Returns:
        `{"energy", "area"}`: lists of the per-frame shares.
    """
    heatmaps = np.asarray(heatmaps, np.float64)
    _, height, width = heatmaps.shape
    valid = np.asarray(valid, bool)
    energy, area = [], []
    for t in np.flatnonzero(np.asarray(event, bool) & valid.any(1)):
        total = heatmaps[t].sum()
        if total <= 0:
            continue
        covered = box_union(boxes[t], valid[t], height, width)
        energy.append(heatmaps[t][covered].sum() / total)
        area.append(covered.mean())
    return {"energy": energy, "area": area}


def pooled_energy(records, heatmaps) -> dict:
    """`energy_in_boxes` pooled over every eligible frame of `records`.

    Args:
        records: `explain` results records with `ground_truth`.
        heatmaps: `{id: (T, H, W) map}` of the records.

    Returns:
        `{"energy", "area"}`: the mean shares (NaN without frames),
        `"ratio"`: energy over area, and `"frames"`.
    """
    energy, area = [], []
    for r in records:
        truth = r["ground_truth"]
        shares = energy_in_boxes(heatmaps[r["id"]], truth["event"],
                                 np.array(truth["boxes"]),
                                 np.array(truth["box_valid"]))
        energy += shares["energy"]
        area += shares["area"]
    frames = len(area)
    energy, area = finite_mean(energy), finite_mean(area)
    return {"energy": energy, "area": area,
            "ratio": energy / area if frames else np.nan, "frames": frames}


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
    """The faithfulness targets, True or False; None where a value is
    missing.

    Args:
        result: The measures, as `tfvidinterp.faithfulness.run` returns
            them.

    Returns:
        `{"mask_iou": learned - random >= MASK_IOU_MARGIN, "pointing_game":
        Grad-CAM >= centre + POINTING_MARGIN, "energy": energy >=
        ENERGY_FACTOR x area, "deletion": learned below random, "sanity":
        Spearman below SANITY_BOUND}`.
    """

    def check(test, *values):
        if any(v is None or not np.isfinite(v) for v in values):
            return None
        return bool(test(*values))

    point, deletion = result["pointing_game"], result["deletion"]
    energy = result["energy"]
    return {
        "mask_iou": check(lambda d: d >= MASK_IOU_MARGIN,
                          result["mask_iou"]["difference"]),
        "pointing_game": check(lambda a, b: a >= b + POINTING_MARGIN,
                               point["gradcam"], point["centre"]),
        "energy": check(lambda e, a: e >= ENERGY_FACTOR * a,
                        energy["energy"], energy["area"]),
        "deletion": check(lambda a, b: a < b, deletion["learned"],
                          deletion["random"]),
        "sanity": check(lambda s: s < SANITY_BOUND,
                        result["sanity"]["spearman"]),
    }


# What a missed target says, and what to try.
_ADVICE = {
    "mask_iou": "the temporal masks did not find the event window; check "
                "that the model reached its target accuracy, then give the "
                "masks more steps (interp.iterations; the method's 300)",
    "pointing_game": "Grad-CAM's peak at layer {layer} lands on the objects "
                     "hardly more often than the frame centre",
    "energy": "Grad-CAM at layer {layer} puts under {factor:g}x the boxes' "
              "area share of its energy on the objects",
    "deletion": "frames removed in the mask's order hurt the score no more "
                "than frames removed at random; the masks do not rank "
                "frames by evidence",
    "sanity": "the maps of a random-weight model resemble the trained "
              "model's: they show the input more than what the model "
              "learned",
}
_SPATIAL_ADVICE = (
    "; see the layer table for the layers that do: a layer with few cells "
    "cannot point (larger frames, input.image_size, give deep layers more), "
    "and a model that has not learned the task points nowhere")


def missed_targets(result: dict) -> list:
    """One sentence per target that `result` misses, with what to try.

    Args:
        result: The measures, as `tfvidinterp.faithfulness.run` returns
            them, with `targets`.

    Returns:
        Strings such as "pointing_game: Grad-CAM's peak at layer ...", in
        the order of `targets`; [] when every target is met or unmeasured.
    """
    missed = []
    for name, met in result["targets"].items():
        if met is not False:
            continue
        text = _ADVICE[name].format(layer=result.get("layer"),
                                    factor=ENERGY_FACTOR)
        if name in ("pointing_game", "energy"):
            text += _SPATIAL_ADVICE
        missed.append(f"{name}: {text}.")
    return missed


def finite_mean(values) -> float:
    """The mean of the finite values; NaN if there are none."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
