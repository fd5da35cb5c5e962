"""Explanations: video Grad-CAM and learned temporal masks.

    from tfvidinterp.interp import GradCAM, TemporalMaskExplainer

    heatmaps = GradCAM(model, layer="Mixed_5c")(videos)
    masks = TemporalMaskExplainer(model, perturbation="freeze")(videos)["mask"]

The classes take a Keras video classifier (`(batch, T, H, W, 3)` float in
[0, 255] in, `(batch, classes)` out) and explain its logits: a softmax head
is rewired to them (`logits_model`). Functional and Sequential models,
nested ones too (`GradCAM(model, layer="backbone/Mixed_3c")`), work as they
are; a subclassed model is only called, so Grad-CAM needs its split:

    cam = GradCAM.from_functions(net.backbone, net.head)
"""

from tfvidinterp.interp.deletion import DeletionInsertion
from tfvidinterp.interp.grad_cam import GradCAM
from tfvidinterp.interp.layer_names import default_layer
from tfvidinterp.interp.layer_sweep import LayerSweep
from tfvidinterp.interp.layer_sweep import last_per_resolution
from tfvidinterp.interp.logits import logits_model
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
    "logits_model",
    "reverse",
    "sanity_correlations",
]
