"""Shared test fixtures: tiny videos, tiny models and config loading."""

import importlib.util
import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_videos(batch=2, frames=8, size=32, seed=0):
    """Random float32 videos `(batch, frames, size, size, 3)` in [0, 255]."""
    rng = np.random.default_rng(seed)
    shape = (batch, frames, size, size, 3)
    return rng.uniform(0.0, 255.0, shape).astype(np.float32)


def tiny_model(name, num_classes=3, frames=8, size=32, seed=0, **kwargs):
    """A CPU-test-sized model from `tfvidinterp.models` with fixed weights."""
    import keras

    from tfvidinterp import models

    keras.utils.set_random_seed(seed)
    if name == "i3d":
        kwargs.setdefault("width", 0.125)
    if name == "clstm":
        kwargs.setdefault("filters", 4)
    return models.build(
        name,
        num_classes=num_classes,
        num_frames=frames,
        image_size=size,
        **kwargs,
    )


def load_config(path, arg=None):
    """Loads `get_config(arg)` from a config file, relative to the repo."""
    path = os.path.join(REPO, path)
    spec = importlib.util.spec_from_file_location("config_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)
