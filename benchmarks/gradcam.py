"""Grad-CAM against one forward+backward pass of the model to its input.

`GradCAM` runs the model once and back-propagates only down to the explained
layer, then up-samples the maps; a full pass to the input is its bound.
"""

import tensorflow as tf

from benchmarks import table
from benchmarks import timing
from tfvidinterp.interp import grad_cam

TARGET = 0.8


def measure(bench, name: str) -> dict:
    """Grad-CAM of model `name` at `config.gradcam.batch_size`, compiled.

    Both sides are traced before timing (the trace is reported) and timed
    in alternating rounds.

    Args:
        bench: A `passes.Workbench`.
        name: Model name.

    Returns:
        `rows` (one `table.row`), `context` and `details`: `batch_size`,
        `seconds` and `bound_seconds` (medians per call),
        `trace_seconds` (Grad-CAM's first call minus its median).
    """
    batch = bench.config.gradcam.batch_size
    videos, labels = bench.videos(batch), bench.labels(batch)
    cam = grad_cam.GradCAM(bench.model(name))
    gradient = bench.forward_backward(name)

    def explain():
        # Reading a reduction of the maps waits for all of them.
        return tf.reduce_sum(cam.explain(videos)["heatmaps"]).numpy()

    _, first = timing.once(explain)
    times = timing.interleaved(
        dict(gradcam=explain, bound=lambda: gradient(videos, labels).numpy()),
        bench.config.repeats,
    )
    seconds = timing.median(times["gradcam"])
    bound = timing.median(times["bound"])
    row = table.row(
        f"gradcam {name} b={batch} vs fwd+bwd",
        batch / seconds,
        batch / bound,
        "clips/s",
        TARGET,
    )
    context = (
        f"gradcam {name}: {seconds:.3g} s per call at b={batch}, trace "
        f"{first - seconds:.3g} s"
    )
    return dict(
        rows=[row],
        context=[context],
        details=dict(
            batch_size=batch,
            seconds=seconds,
            bound_seconds=bound,
            trace_seconds=first - seconds,
        ),
    )
