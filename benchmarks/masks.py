"""Temporal masks: the batched explainer against the reference's way and
against its bound.

The reference code (the paper's) learned one clip's mask at a time: an eager
`GradientTape` loop of Adam steps at batch 1, a fresh optimiser per clip, the
freeze perturbation as a loop over frames. `TemporalMaskExplainer` optimises
every clip of a batch at once in one compiled `tf.while_loop`; its bound is
`iterations` forward+backward passes of the model at the same batch size.
"""

import keras
import numpy as np
import tensorflow as tf

from benchmarks import table
from benchmarks import timing
from tfvidinterp.interp import temporal_mask

TARGET_VS_REFERENCE = 10.0
TARGET_VS_BOUND = 0.8


def reference_mask(
    model: keras.Model,
    video,
    target: int,
    initial_logits,
    iterations: int,
    learning_rate: float = 0.1,
    lambda1: float = 0.01,
    lambda2: float = 0.02,
    beta: float = 3.0,
) -> dict:
    """Learns one clip's freeze mask as the reference code did: eagerly.

    The objective and update are `TemporalMaskExplainer`'s (the paper's
    Eq. 1, Keras' Adam), so from the same initial logits both reach the same
    mask; only the execution differs.

    Args:
        model: Video classifier whose output is the logits.
        video: `(frames, height, width, 3)` float in [0, 255].
        target: The class whose softmax score the mask lowers.
        initial_logits: `(frames,)` initial mask logits.
        iterations: Adam steps.
        learning_rate: Adam's learning rate.
        lambda1: L1 weight.
        lambda2: Total-variation weight.
        beta: Total-variation exponent.

    Returns:
        A dict: `mask` `(frames,)` in [0, 1]; `loss_curve` `(iterations,)`,
        the loss before each step; `step_seconds` `(iterations,)`, the wall
        time of each step.
    """
    video = tf.convert_to_tensor(video, tf.float32)[None]
    logits = tf.Variable(np.asarray(initial_logits, np.float32)[None])
    optimizer = keras.optimizers.Adam(learning_rate)

    def step():
        with tf.GradientTape() as tape:
            masks = tf.sigmoid(logits)
            outputs = model(_freeze_loop(video, masks), training=False)
            scores = tf.nn.softmax(outputs)[:, target]
            loss = temporal_mask.mask_loss(
                masks, scores, lambda1, lambda2, beta
            )
        optimizer.apply(tape.gradient(loss, [logits]), [logits])
        return float(loss[0])  # The reference read it every step.

    curve, seconds = [], []
    for _ in range(iterations):
        loss, elapsed = timing.once(step)
        curve.append(loss)
        seconds.append(elapsed)
    return dict(
        mask=tf.sigmoid(logits)[0].numpy(),
        loss_curve=np.array(curve, np.float32),
        step_seconds=np.array(seconds),
    )


def _freeze_loop(videos, masks):
    """The reference's freeze: `y_t = (1 - m_t) x_t + m_t y_{t-1}`, frame by
    frame, in Python."""
    frames = [videos[:, 0]]
    for t in range(1, videos.shape[1]):
        m = masks[:, t, None, None, None]
        frames.append((1.0 - m) * videos[:, t] + m * frames[-1])
    return tf.stack(frames, axis=1)


def measure(bench, name: str) -> dict:
    """Masks of model `name`: each batch size against its bound, the best
    against the eager per-clip reference.

    At every batch size in `config.masks.batch_sizes`, `config.masks.runs`
    rounds alternate (A B C, then C B A, ...) one explainer call,
    `config.repeats` calls of the bound's pass and `reference_iterations`
    reference steps (after a warm-up step), so that all three see the same
    load. The first size is run once more before: the explainer's one
    trace, shared by every batch size, is in that run, reported as
    `trace_seconds` (first run minus the median). The reference learns the
    first clip's mask from the explainer's initial mask and target; its
    steps' median is scaled to `iterations`. The explainer's times include
    its mask initialisation and final scoring, the reference's only its
    steps, so the comparison favours the reference.

    Args:
        bench: A `passes.Workbench`.
        name: Model name.

    Returns:
        `rows` (`table.row` dicts), `context` and `details`: per batch size
        `seconds` (median explainer call), `clips_per_second`,
        `bound_step_seconds`, `bound_clips_per_second`; `trace_seconds` of
        the first batch size; `best_batch_size`; `reference` (`step_seconds`,
        `timed_iterations`, `clip_seconds`).
    """
    config = bench.config.masks
    iterations = config.iterations
    model = bench.model(name)
    gradient = bench.forward_backward(name)
    explainer = temporal_mask.TemporalMaskExplainer(
        model, iterations=iterations, learning_rate=config.learning_rate
    )
    per_batch, traces, reference_steps, start = {}, {}, [], None
    for index, batch in enumerate(config.batch_sizes):
        videos, labels = bench.videos(batch), bench.labels(batch)
        gradient(videos, labels)  # Traces a new shape outside the timings.
        if index == 0:
            result, first = timing.once(lambda: explainer(videos))
            start = _reference_start(videos, result)
        bound_steps = []
        bound = lambda: gradient(videos, labels).numpy()  # noqa: E731
        times = timing.interleaved(
            dict(
                explainer=lambda: explainer(videos),
                bound=lambda: bound_steps.extend(
                    timing.repeated(bound, bench.config.repeats)
                ),
                reference=lambda: reference_steps.extend(
                    _reference_steps(model, start, config)
                ),
            ),
            config.runs,
            warmup=0,
        )
        seconds = timing.median(times["explainer"])
        if index == 0:
            traces[batch] = first - seconds
        step = timing.median(bound_steps)
        per_batch[batch] = dict(
            seconds=seconds,
            clips_per_second=batch / seconds,
            bound_step_seconds=step,
            bound_clips_per_second=batch / (iterations * step),
        )
    best = max(per_batch, key=lambda b: per_batch[b]["clips_per_second"])
    step = timing.median(reference_steps)
    reference = dict(
        step_seconds=step,
        timed_iterations=len(reference_steps),
        clip_seconds=step * iterations,
    )
    return dict(
        rows=_rows(name, iterations, per_batch, best, reference),
        context=[_context(name, iterations, per_batch, best, traces, step)],
        details=dict(
            batch_sizes=per_batch,
            trace_seconds=traces,
            best_batch_size=best,
            reference=reference,
        ),
    )


def _reference_start(videos, explained):
    """(clip, target, initial logits) of the first clip, as explained."""
    initial = np.clip(explained["initial_mask"][0], 1e-6, 1 - 1e-6)
    logits = np.log(initial / (1.0 - initial))
    return videos[0], int(explained["target_class"][0]), logits


def _reference_steps(model, start, config):
    """Durations of `reference_iterations` reference steps after a warm-up
    step (which creates Adam's state)."""
    video, target, logits = start
    result = reference_mask(
        model,
        video,
        target,
        logits,
        config.reference_iterations + 1,
        config.learning_rate,
    )
    return list(result["step_seconds"][1:])


def _rows(name, iterations, per_batch, best, reference):
    rows = [
        table.row(
            f"masks {name} b={batch} vs {iterations} fwd+bwd",
            timed["clips_per_second"],
            timed["bound_clips_per_second"],
            "clips/s",
            TARGET_VS_BOUND,
        )
        for batch, timed in per_batch.items()
    ]
    rows.append(
        table.row(
            f"masks {name} b={best} vs eager per-clip",
            per_batch[best]["clips_per_second"],
            1.0 / reference["clip_seconds"],
            "clips/s",
            TARGET_VS_REFERENCE,
            f"eager: median of {reference['timed_iterations']} steps x "
            f"{iterations}, without its mask initialisation",
        )
    )
    return rows


def _context(name, iterations, per_batch, best, traces, reference_step):
    traced = ", ".join(f"b={b}: {t:.3g} s" for b, t in traces.items())
    return (
        f"masks {name}: {iterations} steps at b={best} took "
        f"{per_batch[best]['seconds']:.3g} s; trace (first call minus "
        f"steady) {traced}; eager reference step {reference_step:.3g} s"
    )
