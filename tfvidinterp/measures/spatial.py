"""Where a Grad-CAM map falls against the objects' true boxes, per frame.

The pointing game is from Zhang et al., "Top-down Neural Attention by
Excitation Backprop", ECCV 2016, https://arxiv.org/abs/1608.00507; the share
of a map's energy in the boxes is the same question asked of the whole map.
Only event frames with a visible object count.
"""

import numpy as np

from tfvidinterp.measures import statistics


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
    return bool(
        np.any(
            (ymin - tolerance <= y)
            & (y <= ymax + tolerance)
            & (xmin - tolerance <= x)
            & (x <= xmax + tolerance)
        )
    )


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
    frames = np.flatnonzero(
        np.asarray(event, bool) & np.asarray(valid, bool).any(1)
    )
    centre = (height / 2, width / 2)
    hits = [
        (
            in_boxes(
                peak(heatmaps[t]), boxes[t], valid[t], height, width, tolerance
            ),
            in_boxes(centre, boxes[t], valid[t], height, width, tolerance),
        )
        for t in frames
    ]
    hits = np.array(hits, bool).reshape(-1, 2)
    return {
        "hits": int(hits[:, 0].sum()),
        "centre_hits": int(hits[:, 1].sum()),
        "frames": len(frames),
    }


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
        covered |= (
            (ymin <= rows) & (rows < ymax) & (xmin <= cols) & (cols < xmax)
        )
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
        shares = energy_in_boxes(
            heatmaps[r["id"]],
            truth["event"],
            np.array(truth["boxes"]),
            np.array(truth["box_valid"]),
        )
        energy += shares["energy"]
        area += shares["area"]
    frames = len(area)
    energy, area = statistics.finite_mean(energy), statistics.finite_mean(area)
    return {
        "energy": energy,
        "area": area,
        "ratio": energy / area if frames else np.nan,
        "frames": frames,
    }


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
    games = [
        pointing_game(
            heatmaps[r["id"]],
            r["ground_truth"]["event"],
            np.array(r["ground_truth"]["boxes"]),
            np.array(r["ground_truth"]["box_valid"]),
            tolerance,
        )
        for r in records
    ]
    frames = sum(g["frames"] for g in games)
    hits, centre = (
        sum(g[key] for g in games) for key in ("hits", "centre_hits")
    )
    return {
        "gradcam": hits / frames if frames else np.nan,
        "centre": centre / frames if frames else np.nan,
        "frames": frames,
        "tolerance_px": tolerance,
    }
