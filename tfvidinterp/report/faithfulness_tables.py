"""The faithfulness tables, from `tfvidinterp.jobs.faithfulness`'s JSON:
each measure with its baseline and target per model
(`faithfulness_table`), and the spatial measures per Grad-CAM layer
(`layer_table`); `tables.to_csv` and `tables.to_markdown` write them.
"""

from tfvidinterp.measures import targets
from tfvidinterp.report import tables

_HIGHER = "none (above baseline is faithful)"
# The cell of a measure that clips without ground truth cannot give.
NEEDS_GROUND_TRUTH = "needs ground truth"
# Faithfulness rows: (measure and its baseline, key in the JSON, value key,
# baseline key, key in "targets" or None, the target).
_FAITHFULNESS = (
    (
        "Mask IoU with the event window; baseline: a run of the same length "
        "placed at random",
        "mask_iou",
        "learned",
        "random",
        "mask_iou",
        f">= baseline + {targets.MASK_IOU_MARGIN:g}",
    ),
    (
        "Pointing game hit rate at the explained layer; baseline: the frame "
        "centre",
        "pointing_game",
        "gradcam",
        "centre",
        "pointing_game",
        f">= baseline + {targets.POINTING_MARGIN:g}",
    ),
    (
        "Share of the Grad-CAM energy in the objects' boxes at the explained "
        "layer; baseline: the boxes' share of the frame",
        "energy",
        "energy",
        "area",
        "energy",
        f">= {targets.ENERGY_FACTOR:g} x baseline",
    ),
    (
        "Grad-CAM mean value inside the window; baseline: outside it",
        "time_profile",
        "inside",
        "outside",
        None,
        _HIGHER,
    ),
    (
        "Share of the Grad-CAM mass inside the window; baseline: the window's "
        "share of the frames",
        "time_profile",
        "mass_inside",
        "window_fraction",
        None,
        _HIGHER,
    ),
    (
        "Deletion area (mask order); baseline: random frame orders",
        "deletion",
        "learned",
        "random",
        "deletion",
        "< baseline",
    ),
    (
        "Insertion area (mask order); baseline: random frame orders",
        "insertion",
        "learned",
        "random",
        None,
        _HIGHER,
    ),
    (
        "Sanity check: Spearman correlation of the maps with a random-weight "
        "model's",
        "sanity",
        "spearman",
        None,
        "sanity",
        f"< {targets.SANITY_BOUND:g}",
    ),
)


def faithfulness_table(results, labels=None) -> tables.Table:
    """The faithfulness measures of one or more models, with their targets.

    Args:
        results: `tfvidinterp.jobs.faithfulness.run`'s dicts, one per
            model; None for a model without them (its cells stay empty).
        labels: Column names, one per model; default "I3D (<run>)" style.

    Returns:
        A `Table` with id "faithfulness": one row per measure, then the
        target and, per model, the value, its baseline and whether the
        target is met ("yes", "no"; empty for a measure without a target
        or a value). A measure a result lists in `needs_ground_truth` reads
        "needs ground truth".
    """
    labels = labels or [_label(r) for r in results]
    columns = ["Measure", "Target"]
    for label in labels:
        columns += [label, f"{label} baseline", f"{label} target met"]
    rows = []
    for title, key, value, baseline, target, text in _FAITHFULNESS:
        row = [title, text]
        for result in results:
            row += _faithfulness_cells(
                result or {}, key, value, baseline, target
            )
        rows.append(row)
    notes = []
    for label, r in zip(labels, results):
        if r is None:
            notes.append(f"{label}: not measured.")
            continue
        if not r["clips"]:
            notes.append(_note_without_ground_truth(label, r))
            continue
        point, sanity = r["pointing_game"], r["sanity"]
        notes.append(
            f"{label}: {r['clips']} clips with ground truth, "
            f"{r['object_clips']} of object classes (mask IoU, time profile, "
            f"deletion and insertion with the {r['perturbation']} "
            f"perturbation, {r['random_orders']} random orders); "
            f"{point['frames']} event frames with an object in "
            f"{point['clips']} clips at layer {r['layer']} (pointing game, "
            f"tolerance {point['tolerance_px']} px; energy); sanity check "
            "over "
            f"{sanity['clips']} clips, {sanity['constant_maps']} constant "
            "maps left out."
        )
    return tables.Table(
        "faithfulness",
        "Faithfulness: the explanations against the model and the ground truth",
        columns,
        rows,
        "Areas are means of the T + 1 target-class probabilities as frames "
        "are perturbed (deletion) or restored (insertion) in order. "
        + " ".join(notes),
    )


def _faithfulness_cells(result, key, value, baseline, target):
    """A model's value, baseline and "target met" cells of a measure."""
    if key in result.get("needs_ground_truth", ()):
        return [NEEDS_GROUND_TRUTH, None, None]
    part = result.get(key, {})
    met = result.get("targets", {}).get(target)
    return [
        part.get(value),
        part.get(baseline) if baseline else None,
        None if met is None else ("yes" if met else "no"),
    ]


def _note_without_ground_truth(label, result):
    sanity = result["sanity"]
    return (
        f"{label}: no clip with ground truth; deletion and insertion over "
        f"{result['curve_clips']} clips with the {result['perturbation']} "
        f"perturbation, {result['random_orders']} random orders; sanity check "
        f"over {sanity['clips']} clips, {sanity['constant_maps']} constant "
        "maps left out."
    )


def layer_table(results, labels=None) -> tables.Table:
    """Where each model's Grad-CAM points, layer by layer (the sweep).

    Args:
        results: `tfvidinterp.jobs.faithfulness.run`'s dicts, one per
            model; None for a model without them.
        labels: Model names, one per model; default "I3D (<run>)" style.

    Returns:
        A `Table` with id "layers": a row per model and layer of the sweep,
        fine to coarse, then the input-gradient baseline.
    """
    labels = labels or [_label(r) if r else "" for r in results]
    rows = []
    for label, result in zip(labels, results):
        for row in (result or {}).get("layers") or []:
            name = row["layer"]
            if name == result["layer"]:
                name += " (explained)"
            elif row["cells"] is None:
                name = "input gradient (baseline)"
            cells = "x".join(map(str, row["cells"])) if row["cells"] else ""
            rows.append(
                [
                    label,
                    name,
                    cells,
                    row["pointing"],
                    row["centre"],
                    row["energy"],
                    row["area"],
                    row["ratio"],
                ]
            )
    return tables.Table(
        "layers",
        "Grad-CAM layer by layer: does the map point at the moving objects?",
        [
            "Model",
            "Layer",
            "Cells",
            "Pointing game",
            "Frame centre",
            "Energy in boxes",
            "Boxes' area",
            "Energy / area",
        ],
        rows,
        "Event frames with a visible object. Pointing game: the map's peak "
        "falls in an object's box (the centre column: the frame centre "
        "does). Energy: the share of the map's sum inside the boxes, against "
        "the boxes' share of the frame. Targets at the explained layer: "
        f"pointing >= centre + {targets.POINTING_MARGIN:g}, energy >= "
        f"{targets.ENERGY_FACTOR:g} x area.",
    )


def _label(result):
    """A model's default column name: `I3D (<run>)`."""
    name = result["model_name"]
    return f"{tables.MODEL_NAMES.get(name, name)} ({result['run']})"
