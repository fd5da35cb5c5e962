"""TensorBoard summaries shared by training, evaluation and explanations."""

import json

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api


def flatten(config, prefix=""):
    """Flattens a nested mapping into `{"a.b": value}` with scalar values.

    Lists and tuples become their string form, so the result is a valid set of
    hyper-parameters for the TensorBoard HParams plugin.
    """
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if hasattr(value, "items"):
            flat.update(flatten(value, f"{name}."))
        elif value is None or isinstance(value, (list, tuple)):
            flat[name] = str(value)
        else:
            flat[name] = value
    return flat


def write_config(config_dict, step=0):
    """Writes the resolved config as text and as hyper-parameters.

    Args:
        config_dict: The run's config as a plain nested dict.
        step: The step to attach the summaries to.
    """
    text = json.dumps(config_dict, indent=2, sort_keys=True)
    tf.summary.text("config", f"```\n{text}\n```", step=step)
    hparams_api.hparams(flatten(config_dict))


def clip_strip(video, max_frames=16):
    """Tiles a clip's frames side by side into one image.

    Args:
        video: `(frames, height, width, 3)` float in [0, 255] or uint8.
        max_frames: At most this many frames, spread over the clip.

    Returns:
        `(height, width * n, 3)` uint8 image.
    """
    video = np.asarray(video)
    keep = np.linspace(0, len(video) - 1, min(max_frames, len(video)))
    frames = video[np.round(keep).astype(int)]
    frames = np.clip(frames, 0, 255).astype(np.uint8)
    return np.concatenate(list(frames), axis=1)


def write_clips(tag, videos, step, max_outputs=3):
    """Writes up to `max_outputs` clips of `videos` as frame strips."""
    strips = np.stack([clip_strip(v) for v in videos[:max_outputs]])
    tf.summary.image(tag, strips, step=step, max_outputs=max_outputs)
