"""How many CPU cores of input pipeline a GPU's training rate needs.

A training clip costs `training.TRAIN_FORWARD_RATIO` (3) forward passes:
the forward, and a backward of about twice its FLOPs. A GPU of `peak`
FLOP/s at `utilisation` trains `peak * utilisation / train_flops` clips/s;
an input pipeline delivering `per_core` clips/s on one core keeps up with
`ceil(that / per_core)` cores.
"""

import math

import keras

from benchmarks import training

# The paper's training shape and SSv2's classes.
NUM_FRAMES, IMAGE_SIZE, NUM_CLASSES = 16, 224, 174


def train_flops_per_clip(model: keras.Model) -> int:
    """FLOPs of one training clip: 3 x the profiler's forward count."""
    return training.TRAIN_FORWARD_RATIO * training.forward_flops(model, 1)


def capacity(train_flops, peak, utilisation, per_core) -> dict:
    """The clips/s a GPU trains and the cores that keep up with it.

    Args:
        train_flops: FLOPs per training clip.
        peak: The GPU's peak FLOP/s.
        utilisation: The share of the peak training achieves, in (0, 1].
        per_core: Input pipeline clips/s on one CPU core.

    Returns:
        `clips_per_second` (the GPU's) and `cores` (ceil of the ratio).
    """
    clips = peak * utilisation / train_flops
    return dict(clips_per_second=clips, cores=math.ceil(clips / per_core))
