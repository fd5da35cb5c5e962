"""Where a C-LSTM train step's time goes, and what XLA changes.

Keras' `ConvLSTM2D` runs, at every time step, 4 input and 4 recurrent
convolutions (one per gate) inside a `while` loop. Timed against the whole
train step (all at `config.training.batch_size`, forward and backward), the
same convolutions alone, on random inputs:
- `looped`: as Keras runs them, 8 per step in a loop over time that carries
  the recurrent state;
- `hoisted`: as a ConvLSTM could run them: the input convolutions (which do
  not depend on the state) over all time steps at once before the loop,
  then one recurrent convolution per step, gates merged into one kernel;
- `batched`: per layer one input and one recurrent convolution over all
  time steps at once: the same FLOPs at their cheapest, a floor (the
  recurrent part cannot really run so).
And the train step compiled with XLA (`jit_compile=True`) against without.
"""

import keras
import tensorflow as tf

from benchmarks import table
from benchmarks import timing

GATES = 4


def conv_specs(model) -> list:
    """The convolutions of each `ConvLSTM2D` layer of `model`.

    Returns:
        One dict per layer: `input_shape` `(T, h, w, c_in)`, `state_shape`
        `(T, h', w', filters)`, `kernel` and `recurrent_kernel` (the layer's
        variables, `(k, k, c_in, 4 filters)` and `(k, k, filters,
        4 filters)`), `strides` and `padding` of the input convolution.
    """
    specs = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.ConvLSTM2D):
            cell = layer.cell
            specs.append(
                dict(
                    input_shape=tuple(layer.input.shape[1:]),
                    state_shape=tuple(layer.output.shape[1:]),
                    kernel=cell.kernel,
                    recurrent_kernel=cell.recurrent_kernel,
                    strides=tuple(cell.strides),
                    padding=cell.padding.upper(),
                )
            )
    return specs


def looped_convs(specs, batch: int):
    """Keras' 8 convolutions per time step, in a loop; returns a function
    that runs them forward and backward and waits."""

    def layer_loss(spec, x, state):
        del state  # Carried by the loop instead.
        kernels = tf.split(spec["kernel"], GATES, axis=-1)
        recurrent = tf.split(spec["recurrent_kernel"], GATES, axis=-1)

        def cell(state, x_t):
            gates = [
                tf.nn.conv2d(x_t, k, spec["strides"], spec["padding"])
                + tf.nn.conv2d(state, r, 1, "SAME")
                for k, r in zip(kernels, recurrent)
            ]
            return tf.tanh(tf.add_n(gates))

        return _recurrence(cell, _time_major(x), spec, batch)

    return _forward_backward(specs, batch, layer_loss, watch_states=False)


def hoisted_convs(specs, batch: int):
    """The input convolutions over all time steps before the loop, one
    merged recurrent convolution per step in it; returns a function that
    runs them forward and backward and waits."""

    def layer_loss(spec, x, state):
        del state  # Carried by the loop instead.
        projected = _time_major(
            _over_time(
                x,
                lambda frames: tf.nn.conv2d(
                    frames, spec["kernel"], spec["strides"], spec["padding"]
                ),
            )
        )

        def cell(state, x_t):
            gates = x_t + tf.nn.conv2d(
                state, spec["recurrent_kernel"], 1, "SAME"
            )
            return tf.tanh(tf.add_n(tf.split(gates, GATES, axis=-1)))

        return _recurrence(cell, projected, spec, batch)

    return _forward_backward(specs, batch, layer_loss, watch_states=False)


def batched_convs(specs, batch: int):
    """Per layer one input and one recurrent convolution over all time
    steps at once (the recurrent one on random states); returns a function
    that runs them forward and backward and waits."""

    def layer_loss(spec, x, state):
        inputs = _over_time(
            x,
            lambda frames: tf.nn.conv2d(
                frames, spec["kernel"], spec["strides"], spec["padding"]
            ),
        )
        states = _over_time(
            state,
            lambda frames: tf.nn.conv2d(
                frames, spec["recurrent_kernel"], 1, "SAME"
            ),
        )
        return tf.reduce_sum(inputs) + tf.reduce_sum(states)

    return _forward_backward(specs, batch, layer_loss, watch_states=True)


def _over_time(videos, function):
    """Applies a per-frame `function` to all frames of all clips at once."""
    shape = tf.shape(videos)
    frames = tf.reshape(videos, tf.concat([[-1], shape[2:]], axis=0))
    out = function(frames)
    return tf.reshape(out, tf.concat([shape[:2], tf.shape(out)[1:]], 0))


def _time_major(videos):
    return tf.transpose(videos, [1, 0, 2, 3, 4])


def _recurrence(cell, sequence, spec, batch):
    """Sum of the states of `cell` run over a time-major `sequence`."""
    initial = tf.zeros((batch,) + spec["state_shape"][1:])
    return tf.reduce_sum(tf.scan(cell, sequence, initial))


def _random_tensors(specs, batch):
    inputs, states = [], []
    for i, spec in enumerate(specs):
        inputs.append(
            tf.random.stateless_uniform(
                (batch,) + spec["input_shape"], seed=[i, 0]
            )
        )
        states.append(
            tf.random.stateless_uniform(
                (batch,) + spec["state_shape"], seed=[i, 1]
            )
        )
    return inputs, states


def _forward_backward(specs, batch, layer_loss, watch_states):
    """Compiles the sum over layers of `layer_loss(spec, input, state)` on
    random tensors, and its gradient with respect to the kernels, the
    inputs of all but the first layer (as training needs) and, if
    `watch_states`, the states; returns a function that runs it and
    waits."""
    inputs, states = _random_tensors(specs, batch)
    kernels = [s[k] for s in specs for k in ("kernel", "recurrent_kernel")]
    watched = inputs[1:] + (states if watch_states else [])

    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch(watched)
            loss = tf.add_n(
                [
                    layer_loss(spec, x, state)
                    for spec, x, state in zip(specs, inputs, states)
                ]
            )
        grads = tape.gradient(loss, kernels + watched)
        return tf.add_n([tf.reduce_sum(g) for g in grads])

    return lambda: run().numpy()


def measure(bench, name: str = "clstm") -> dict:
    """The C-LSTM step against its convolutions, and with XLA against
    without, all timed in alternating rounds after their traces.

    Args:
        bench: A `passes.Workbench`.
        name: Name of a model with `ConvLSTM2D` layers.

    Returns:
        `rows` (the step against its `looped`, `hoisted` and `batched`
        convolutions: the ratio is the share of the step's time they take;
        XLA against none: the ratio is XLA's speed-up), `context` and
        `details`: `batch_size`, `seconds` (median per call of `step`,
        `xla`, `looped`, `hoisted`, `batched`) and `xla_trace_seconds`
        (first XLA step minus its median).
    """
    batch = bench.config.training.batch_size
    frames, labels = bench.videos(batch), bench.labels(batch)
    step = bench.train_step(name)
    xla = bench.train_step(name, jit_compile=True)
    specs = conv_specs(bench.model(name))
    functions = dict(
        step=lambda: float(step(frames, labels)),
        xla=lambda: float(xla(frames, labels)),
        looped=looped_convs(specs, batch),
        hoisted=hoisted_convs(specs, batch),
        batched=batched_convs(specs, batch),
    )
    _, xla_first = timing.once(functions["xla"])
    times = timing.interleaved(functions, bench.config.repeats)
    seconds = {key: timing.median(value) for key, value in times.items()}
    rate = {key: batch / value for key, value in seconds.items()}
    prefix = f"convlstm {name} b={batch} step vs its convs"
    rows = [
        table.row(
            f"{prefix}, {variant}",
            rate["step"],
            rate[variant],
            "clips/s",
            note=f"ratio = share of the step: {note}",
        )
        for variant, note in (
            ("looped", "8 convs per time step, as Keras"),
            ("hoisted", "input convs over all steps, 1 recurrent per step"),
            ("batched", "2 convs per layer over all steps (a floor)"),
        )
    ]
    rows.append(
        table.row(
            f"convlstm {name} b={batch} XLA step vs step",
            rate["xla"],
            rate["step"],
            "clips/s",
            note="ratio = XLA's speed-up (<1: loss)",
        )
    )
    details = dict(
        batch_size=batch,
        seconds=seconds,
        xla_trace_seconds=xla_first - seconds["xla"],
    )
    context = (
        f"convlstm {name}: step {seconds['step']:.3g} s, XLA step "
        f"{seconds['xla']:.3g} s (its compilation "
        f"{details['xla_trace_seconds']:.3g} s)"
    )
    return dict(rows=rows, context=[context], details=details)
