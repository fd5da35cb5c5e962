"""The faithfulness targets: what a measured value must reach, and advice
for each one missed."""

import numpy as np

# The targets (docs/design.md): learned mask IoU at least this much
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


def targets(result: dict) -> dict:
    """The faithfulness targets, True or False; None where a value is
    missing.

    Args:
        result: The measures, as `tfvidinterp.jobs.faithfulness.run` returns
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
        "mask_iou": check(
            lambda d: d >= MASK_IOU_MARGIN, result["mask_iou"]["difference"]
        ),
        "pointing_game": check(
            lambda a, b: a >= b + POINTING_MARGIN,
            point["gradcam"],
            point["centre"],
        ),
        "energy": check(
            lambda e, a: e >= ENERGY_FACTOR * a,
            energy["energy"],
            energy["area"],
        ),
        "deletion": check(
            lambda a, b: a < b, deletion["learned"], deletion["random"]
        ),
        "sanity": check(
            lambda s: s < SANITY_BOUND, result["sanity"]["spearman"]
        ),
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
    "and a model that has not learned the task points nowhere"
)


def missed_targets(result: dict) -> list:
    """One sentence per target that `result` misses, with what to try.

    Args:
        result: The measures, as `tfvidinterp.jobs.faithfulness.run` returns
            them, with `targets`.

    Returns:
        Strings such as "pointing_game: Grad-CAM's peak at layer ...", in
        the order of `targets`; [] when every target is met or unmeasured.
    """
    missed = []
    for name, met in result["targets"].items():
        if met is not False:
            continue
        text = _ADVICE[name].format(
            layer=result.get("layer"), factor=ENERGY_FACTOR
        )
        if name in ("pointing_game", "energy"):
            text += _SPATIAL_ADVICE
        missed.append(f"{name}: {text}.")
    return missed
