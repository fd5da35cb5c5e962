"""TensorBoard views of a comparison: animated GIFs, statistics, tables.

`tf.summary.image` encodes PNGs only; TensorBoard's image plugin serves any
encoded image it finds (it sniffs the type from the bytes), so a GIF is
written as the plugin's own tensor, `[width, height, gif_bytes]`, and plays
in the browser.
"""

import numpy as np
import tensorflow as tf
from tensorboard.plugins.image import metadata as image_metadata

from tfvidinterp.analysis import report


def write_gif(tag: str, gif_bytes: bytes, width: int, height: int, step=0,
              description=""):
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
        display_name=tag, description=description)
    tensor = tf.constant([str(width).encode(), str(height).encode(),
                          gif_bytes])
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


def write_tables(tables, step=0):
    """Writes `report.Table`s as Markdown text summaries `tables/<id>`."""
    for table in tables:
        tf.summary.text(f"tables/{table.id}", report.to_markdown(table),
                        step=step)
