"""Explanations: video Grad-CAM and learned temporal masks.

    from tfvidinterp.interp import GradCAM, TemporalMaskExplainer

    heatmaps = GradCAM(model, layer="Mixed_5c")(videos)
    masks = TemporalMaskExplainer(model, perturbation="freeze")(videos)["mask"]

The classes take any Keras video classifier whose output is the logits
(`(batch, T, H, W, 3)` float in [0, 255] in, `(batch, classes)` out).
"""

from tfvidinterp.interp.deletion import DeletionInsertion
from tfvidinterp.interp.grad_cam import GradCAM
from tfvidinterp.interp.grad_cam import default_layer
from tfvidinterp.interp.layer_sweep import LayerSweep
from tfvidinterp.interp.layer_sweep import last_per_resolution
from tfvidinterp.interp.perturbation import PERTURBATIONS
from tfvidinterp.interp.perturbation import freeze
from tfvidinterp.interp.perturbation import reverse
from tfvidinterp.interp.saliency import InputGradient
from tfvidinterp.interp.sanity import sanity_correlations
from tfvidinterp.interp.temporal_mask import TemporalMaskExplainer

__all__ = [
    "PERTURBATIONS",
    "DeletionInsertion",
    "GradCAM",
    "InputGradient",
    "LayerSweep",
    "TemporalMaskExplainer",
    "default_layer",
    "freeze",
    "last_per_resolution",
    "reverse",
    "sanity_correlations",
]
