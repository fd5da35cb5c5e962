"""Training throughput and achieved FLOP/s against a large matmul's.

FLOPs are counted from the model's graph with `tf.compat.v1.profiler`
(`float_ops`: two per multiply-add of convolutions and matmuls, one per
element of element-wise ops), on the forward pass in training mode; a
training step is taken as 3x the forward pass (the backward pass costs about
twice the forward: gradients for the inputs and for the weights).
"""

import keras
import tensorflow as tf

from benchmarks import table
from benchmarks import timing

TRAIN_FORWARD_RATIO = 3


def forward_flops(model: keras.Model, batch_size: int, training=True) -> int:
    """Float operations of one forward pass, counted on its graph.

    Recurrent layers are traced unrolled, so that each time step's ops are
    in the graph (the profiler does not look inside a while loop's body).

    Args:
        model: A Keras model with one input of static shape (but batch).
        batch_size: The batch the count is for.
        training: Count the training-mode forward pass (batch statistics,
            dropout) or the inference one.

    Returns:
        The profiler's `total_float_ops`.
    """
    spec = tf.TensorSpec(
        (batch_size,) + tuple(model.input.shape[1:]), model.input.dtype
    )
    recurrent = [
        layer for layer in model.layers if isinstance(layer, keras.layers.RNN)
    ]
    previous = [layer.unroll for layer in recurrent]
    try:
        for layer in recurrent:
            layer.unroll = True
        forward = tf.function(lambda x: model(x, training=training))
        graph = forward.get_concrete_function(spec).graph
    finally:
        for layer, unroll in zip(recurrent, previous):
            layer.unroll = unroll
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=graph, options=options)
    return int(profile.total_float_ops)


def matmul(size: int):
    """A float32 `size x size` matmul, compiled; returns a function that runs
    it and waits, and its FLOPs (`2 size^3`)."""
    a = tf.random.stateless_normal([size, size], seed=[0, 1])
    b = tf.random.stateless_normal([size, size], seed=[0, 2])
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    return (lambda: product().numpy()), 2 * size**3


def measure(bench, name: str) -> dict:
    """The train step of model `name` at `config.training.batch_size`.

    The step (traced first; the trace is reported) and the matmul are timed
    in alternating rounds.

    Args:
        bench: A `passes.Workbench`.
        name: Model name.

    Returns:
        `rows` (one `table.row`: achieved FLOP/s against the matmul's),
        `context` (lines) and `details`: `batch_size`, `step_seconds`,
        `clips_per_second`, `trace_seconds`, `forward_flops`,
        `train_flops`, `flops_per_second`, `matmul_size`,
        `matmul_flops_per_second`.
    """
    config = bench.config.training
    batch = config.batch_size
    frames, labels = bench.videos(batch), bench.labels(batch)
    step = bench.train_step(name)
    train = lambda: float(step(frames, labels))  # noqa: E731
    _, first = timing.once(train)
    forward = forward_flops(bench.model(name), batch)
    run_matmul, matmul_flops = matmul(config.matmul_size)
    times = timing.interleaved(
        dict(train=train, matmul=run_matmul), bench.config.repeats
    )
    seconds = timing.median(times["train"])
    train_flops = TRAIN_FORWARD_RATIO * forward
    details = dict(
        batch_size=batch,
        step_seconds=seconds,
        clips_per_second=batch / seconds,
        trace_seconds=first - seconds,
        forward_flops=forward,
        train_flops=train_flops,
        flops_per_second=train_flops / seconds,
        matmul_size=config.matmul_size,
        matmul_flops_per_second=matmul_flops / timing.median(times["matmul"]),
    )
    size = config.matmul_size
    row = table.row(
        f"train {name} b={batch} vs {size}x{size} matmul",
        details["flops_per_second"],
        details["matmul_flops_per_second"],
        "FLOP/s",
        note=f"{train_flops / 1e9:.3g} GFLOP/step = 3 x forward (profiler)",
    )
    context = (
        f"train {name}: {details['clips_per_second']:.3g} clips/s "
        f"({seconds:.3g} s/step at batch {batch}), first-step trace "
        f"{details['trace_seconds']:.3g} s"
    )
    return dict(rows=[row], context=[context], details=details)
