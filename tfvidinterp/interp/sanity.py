"""The model-randomisation sanity check of a saliency method.

Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018,
https://arxiv.org/abs/1810.03292.
"""

import keras
import numpy as np

from tfvidinterp.interp import grad_cam
from tfvidinterp.measures import statistics


def sanity_correlations(
    heatmaps, model: keras.Model, videos, class_ids, **options
) -> np.ndarray:
    """Spearman correlations of maps with `model`'s Grad-CAM maps.

    With `model` a copy of the explained architecture with random weights,
    this is Adebayo et al.'s model-randomisation check: maps that explain
    the model should not survive the loss of what it learned.

    Args:
        heatmaps: `(batch, T, H, W)` maps of the explained model.
        model: The model to compare with.
        videos: `(batch, T, H, W, 3)` its input, float in [0, 255].
        class_ids: `(batch,)` classes the maps explain.
        **options: `grad_cam.GradCAM` options (layer, weighting, score,
            upsample, normalize).

    Returns:
        `(batch,)` float; NaN where either map is constant. `model`'s maps
        are rounded to float16 first, the precision `explain` stores.
    """
    cam = grad_cam.GradCAM(model, **options)
    other = cam(videos, class_ids).numpy().astype(np.float16)
    return np.array(
        [statistics.spearman(a, b) for a, b in zip(heatmaps, other)]
    )
