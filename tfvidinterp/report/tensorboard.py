"""TensorBoard views: a run's config and clips, and a comparison's animated
GIFs, statistics and tables.

`tf.summary.image` encodes PNGs only; TensorBoard's image plugin serves any
encoded image it finds (it sniffs the type from the bytes), so a GIF is
written as the plugin's own tensor, `[width, height, gif_bytes]`, and plays
in the browser.
"""

import json

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.image import metadata as image_metadata

from tfvidinterp.report import tables


def write_gif(
    tag: str, gif_bytes: bytes, width: int, height: int, step=0, description=""
):
    """Writes an animated GIF as an image summary to the default writer.

    Args:
        tag: Summary tag.
        gif_bytes: The encoded GIF.
        width: Its width in pixels.
        height: Its height in pixels.
        step: Summary step.
        description: Markdown shown with the image.
    """
    meta = image_metadata.create_summary_metadata(
        display_name=tag, description=description
    )
    tensor = tf.constant([str(width).encode(), str(height).encode(), gif_bytes])
    tf.summary.write(tag, tensor, step=step, metadata=meta)


def write_measures(measures: dict, step=0):
    """Writes one model's measures as scalar means and histograms.

    Args:
        measures: `{key: (clips,) float}`; NaN (a clip without the measure)
            is left out.
        step: Summary step.
    """
    for key, values in measures.items():
        values = np.asarray(values, np.float64)
        values = values[np.isfinite(values)]
        if len(values):
            tf.summary.scalar(f"{key}/mean", values.mean(), step=step)
            tf.summary.histogram(key, values, step=step)


def write_tables(shown, step=0):
    """Writes `tables.Table`s as Markdown text summaries `tables/<id>`."""
    for table in shown:
        tf.summary.text(
            f"tables/{table.id}", tables.to_markdown(table), step=step
        )


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
