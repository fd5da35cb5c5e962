"""Mixed bfloat16 against float32: train step, Grad-CAM and the mask loop.

The model is built a second time under `config.precision.policy` with the
float32 model's weights (variables stay float32, compute is bfloat16), and
each pass of the two models is timed side by side in alternating rounds. The
mask loop is timed by its step, one forward+backward pass to the input
(`passes.Workbench.forward_backward`).
"""

import tensorflow as tf

from benchmarks import passes
from benchmarks import table
from benchmarks import timing
from tfvidinterp import precision
from tfvidinterp.interp import grad_cam

TARGET = 1.6  # Of the kernels' 2x (bf16 against f32 matmuls and convs).


def measure(bench, name: str) -> dict:
    """Model `name` under the policy against float32, at
    `config.precision.batch_size`.

    Args:
        bench: A `passes.Workbench` (its float32 model).
        name: Model name.

    Returns:
        `rows` (train step, mask step, Grad-CAM: clips/s of the policy
        against float32's; the first two with a target), `context` and
        `details`: per pass and precision the median seconds per call.
    """
    config = bench.config.precision
    batch = config.batch_size
    videos, labels = bench.videos(batch), bench.labels(batch)
    low = _bench_under(bench, name, config.policy)
    calls = {}
    for tag, side in (("f32", bench), ("low", low)):
        step = side.train_step(name)
        gradient = side.forward_backward(name)
        cam = grad_cam.GradCAM(side.model(name))
        calls[f"train {tag}"] = lambda s=step: float(s(videos, labels))
        calls[f"mask {tag}"] = lambda g=gradient: g(videos, labels).numpy()
        calls[f"gradcam {tag}"] = lambda c=cam: tf.reduce_sum(
            c.explain(videos)["heatmaps"]
        ).numpy()
    times = timing.interleaved(calls, bench.config.repeats)
    seconds = {key: timing.median(value) for key, value in times.items()}
    rows = [
        table.row(
            f"{config.policy} {name} {kind} b={batch} vs float32",
            batch / seconds[f"{kind} low"],
            batch / seconds[f"{kind} f32"],
            "clips/s",
            TARGET if kind != "gradcam" else None,
        )
        for kind in ("train", "mask", "gradcam")
    ]
    context = f"{config.policy} {name} b={batch}: " + ", ".join(
        f"{key} {value:.3g} s" for key, value in seconds.items()
    )
    return dict(rows=rows, context=[context], details=dict(seconds=seconds))


def _bench_under(bench, name, policy):
    """A `passes.Workbench` whose model `name` is built under `policy`,
    with `bench`'s model's weights."""
    other = passes.Workbench(bench.config)
    with precision.scope(policy):
        model = other.model(name)
    model.set_weights(bench.model(name).get_weights())
    return other
