"""How `TemporalMaskExplainer` optimises each clip's mask: the loss it
minimises (the paper's Eq. 1, `mask_loss`), its central initialisation
(`central_candidates`, `central_logits`), and Adam's update with the state
passed in and out (`adam`), so that each clip is its own optimiser inside
one while loop; and the range of each of its numbers (`check_numbers`).
"""

import numpy as np
import tensorflow as tf

from tfvidinterp import errors

CENTRAL_LOGIT = 5.0  # sigmoid(±5) = 0.9933 / 0.0067, as the reference.
CENTRAL_THRESHOLD = 0.9
# keras.optimizers.Adam's defaults; `adam` follows its update formula.
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-7


def l1_norm(masks: tf.Tensor) -> tf.Tensor:
    """`sum_t m_t` per clip: `(batch, frames)` -> `(batch,)`."""
    return tf.reduce_sum(masks, axis=-1)


def tv_norm(masks: tf.Tensor, beta=3.0) -> tf.Tensor:
    """`sum_t |m_{t+1} - m_t|^beta` per clip: `(batch, frames)` -> `(batch,)`.

    The reference code counts every interior pair twice; this is the paper's
    plain sum, so its `lambda2` weighs the interior half as much.
    """
    return tf.reduce_sum(tf.abs(masks[:, 1:] - masks[:, :-1]) ** beta, -1)


def mask_loss(masks, scores, lambda1=0.01, lambda2=0.02, beta=3.0):
    """The paper's Eq. 1 per clip: `l1 * L1(m) + l2 * TV_beta(m) + F_c`.

    Args:
        masks: `(batch, frames)` in [0, 1].
        scores: `(batch,)` target-class softmax on the perturbed clips.
        lambda1: Weight of the L1 norm (mask length).
        lambda2: Weight of the total variation (mask contiguity).
        beta: Exponent of the total variation.

    Returns:
        `(batch,)` losses.
    """
    return lambda1 * l1_norm(masks) + lambda2 * tv_norm(masks, beta) + scores


def central_candidates(frames):
    """The whole clip, then the centred blocks [i, T - i), i = 1 .. T/2 - 1.

    Returns:
        `(T/2, frames)` float masks.
    """
    starts = tf.range(frames // 2)[:, None]
    idx = tf.range(frames)[None, :]
    return tf.cast((idx >= starts) & (idx < frames - starts), tf.float32)


def central_logits(scores, frames):
    """Initial logits from the target scores `(batch, 1 + T/2)` of the clip
    and of `central_candidates`: the smallest block whose score drop is at
    least 90 % of the whole clip's, else the largest block."""
    drop = scores[:, 0] - scores[:, 1]  # Freezing the whole clip.
    enough = scores[:, :1] - scores[:, 2:] >= CENTRAL_THRESHOLD * drop[:, None]
    reached = enough & (drop[:, None] > 0.0)
    starts = tf.range(1, frames // 2)
    # The smallest block is the one with the largest start.
    start = tf.reduce_max(tf.where(reached, starts[None, :], 1), axis=-1)
    idx = tf.range(frames)[None, :]
    inside = (idx >= start[:, None]) & (idx < frames - start[:, None])
    return tf.where(inside, CENTRAL_LOGIT, -CENTRAL_LOGIT)


def adam(params, grads, m, v, step, learning_rate):
    """keras.optimizers.Adam's update, elementwise, with the state passed in
    and out, so each clip's row is its own optimiser inside a while loop."""
    m = m + (grads - m) * (1.0 - ADAM_BETA1)
    v = v + (tf.square(grads) - v) * (1.0 - ADAM_BETA2)
    alpha = (
        learning_rate
        * tf.sqrt(1.0 - ADAM_BETA2**step)
        / (1.0 - ADAM_BETA1**step)
    )
    return params - m * alpha / (tf.sqrt(v) + ADAM_EPSILON), m, v


# The least value of each number that gives finite, meaningful masks, and
# whether it may be reached; constant_logit: any finite value. Below beta = 1
# the gradient of |m[t+1] - m[t]|^beta is infinite where two neighbours are
# equal (beta * 0^(beta - 1), times 0 in the chain rule: NaN), as on any
# flat stretch of a mask.
_LIMITS = {
    "lambda1": (0.0, True),
    "lambda2": (0.0, True),
    "beta": (1.0, True),
    "learning_rate": (0.0, False),
    "constant_logit": (-np.inf, False),
    "tol": (0.0, True),
}


def check_numbers(**values):
    """Refuses a mask hyper-parameter that is not a finite number in its
    range (`_LIMITS`).

    Raises:
        errors.InputError: Naming the parameter, its value and its range.
    """
    for name, value in values.items():
        low, inclusive = _LIMITS[name]
        number = isinstance(value, (int, float, np.number)) and not isinstance(
            value, bool
        )
        if not (
            number
            and np.isfinite(value)
            and (value > low or (inclusive and value == low))
        ):
            bound = ">=" if inclusive else ">"
            limit = "" if np.isinf(low) else f" {bound} {low:g}"
            raise errors.InputError(
                f"mask {name} must be a finite number{limit}, got {value!r}"
            )
