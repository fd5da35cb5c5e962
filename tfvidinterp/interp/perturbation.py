"""Temporal perturbations of videos by a soft mask: 'freeze' and 'reverse'.

Mänttäri, Broomé et al., "Interpreting Video Features: A Comparison of 3D
Convolutional Networks and Convolutional LSTM Networks", ACCV 2020, §3.1,
https://arxiv.org/abs/2002.00367.

A mask holds one value per frame in [0, 1]; 1 perturbs the frame, 0 keeps it.
Both perturbations work on whole batches in-graph, without a Python loop over
frames or clips, and are differentiable with respect to the mask values.
"""

import tensorflow as tf

from tfvidinterp import errors

REVERSE_THRESHOLD = 0.1


def freeze_matrix(masks: tf.Tensor) -> tf.Tensor:
    """Lower-triangular mixing matrices of the freeze perturbation.

    `W[b, t, s]` is the weight of input frame s in output frame t:
    `(1 - m_s) * prod_{u=s+1..t} m_u` for `1 <= s <= t`, and
    `prod_{u=1..t} m_u` for `s = 0` (frame 0 is never perturbed). Each row sums
    to 1. The products use `reduce_prod`, whose gradient is exact where a mask
    value is exactly 0 (a log-sum or `cumprod` gradient divides by it).

    Args:
        masks: `(batch, frames)` float in [0, 1].

    Returns:
        `(batch, frames, frames)` float, the same dtype as `masks`.
    """
    masks = tf.convert_to_tensor(masks)
    frames = tf.shape(masks)[1]
    idx = tf.range(frames)
    t = idx[:, None, None]
    s = idx[None, :, None]
    u = idx[None, None, :]
    in_range = (u > s) & (u <= t)  # (t, s, u)
    factors = tf.where(in_range[None], masks[:, None, None, :], 1.0)
    products = tf.reduce_prod(factors, axis=-1)  # (batch, t, s)
    # Frame 0 has no previous frame to copy, so its keep weight is always 1.
    keep = tf.concat([tf.ones_like(masks[:, :1]), 1.0 - masks[:, 1:]], axis=1)
    lower = tf.cast(idx[:, None] >= idx[None, :], masks.dtype)
    return products * keep[:, None, :] * lower[None]


def freeze(videos: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """Freezes the masked frames, repeating the last kept frame.

    `y_0 = x_0` and `y_t = (1 - m_t) x_t + m_t y_{t-1}`, computed as one
    matrix product with `freeze_matrix`, not a loop over frames.

    Args:
        videos: `(batch, frames, height, width, channels)` float.
        masks: `(batch, frames)` float in [0, 1].

    Returns:
        The perturbed videos, the shape and dtype of `videos`.
    """
    videos = tf.convert_to_tensor(videos)
    masks = tf.cast(masks, videos.dtype)
    return tf.einsum("bts,bshwc->bthwc", freeze_matrix(masks), videos)


def reverse_partners(masks: tf.Tensor, threshold=REVERSE_THRESHOLD):
    """Mirror partner of every frame inside the runs where `m > threshold`.

    For a run `[a, b]` (inclusive) the partner of frame t is `a + b - t`; a
    frame outside every run is its own partner.

    Args:
        masks: `(batch, frames)` float.
        threshold: Frames with a mask value above it form the runs.

    Returns:
        `(batch, frames)` int32 partner indices.
    """
    on = tf.convert_to_tensor(masks) > threshold
    frames = tf.shape(on)[1]
    off = tf.zeros_like(on[:, :1])
    starts = on & ~tf.concat([off, on[:, :-1]], axis=1)
    ends = on & ~tf.concat([on[:, 1:], off], axis=1)
    idx = tf.range(frames)
    s_le_t = idx[None, :, None] >= idx[None, None, :]  # (1, t, s)
    s_ge_t = idx[None, :, None] <= idx[None, None, :]
    # The run of an "on" frame t starts at the last start at or before t and
    # ends at the first end at or after t.
    start = tf.reduce_max(
        tf.where(s_le_t & starts[:, None, :], idx[None, None, :], 0), axis=-1
    )
    end = tf.reduce_min(
        tf.where(s_ge_t & ends[:, None, :], idx[None, None, :], frames), axis=-1
    )
    return tf.where(on, start + end - idx[None, :], idx[None, :])


def reverse(videos: tf.Tensor, masks: tf.Tensor, threshold=REVERSE_THRESHOLD):
    """Reverses the frames inside each run where `m > threshold`, blended.

    For a run with frames `r_0 .. r_{L-1}` and `u < L/2`:
    `y[r_u] = (1 - m[r_u]) x[r_u] + m[r_u] x[r_{L-1-u}]` and
    `y[r_{L-1-u}] = (1 - m[r_u]) x[r_{L-1-u}] + m[r_u] x[r_u]`: both frames of
    a pair use the mask value of the first-half frame, as the reference code.
    The middle frame of an odd run and frames outside the runs are unchanged.
    With a binary mask, `[0,0,0,1,1,1,1,1,0,...]` maps frames `1,2,...,8` to
    `1,2,3,8,7,6,5,4`. The runs have no gradient; the blend weights do.

    Args:
        videos: `(batch, frames, height, width, channels)` float.
        masks: `(batch, frames)` float in [0, 1].
        threshold: Frames with a mask value above it form the runs.

    Returns:
        The perturbed videos, the shape and dtype of `videos`.
    """
    videos = tf.convert_to_tensor(videos)
    masks = tf.cast(masks, videos.dtype)
    partners = reverse_partners(masks, threshold)
    first = tf.minimum(partners, tf.range(tf.shape(masks)[1])[None, :])
    weights = tf.gather(masks, first, batch_dims=1)[:, :, None, None, None]
    mirrored = tf.gather(videos, partners, batch_dims=1)
    return (1.0 - weights) * videos + weights * mirrored


PERTURBATIONS = {"freeze": freeze, "reverse": reverse}


def check(name: str) -> str:
    """`name` if it is a key of `PERTURBATIONS`.

    Raises:
        errors.InputError: An unknown perturbation.
    """
    if name not in PERTURBATIONS:
        raise errors.InputError(
            f"unknown perturbation {name!r}; known: {sorted(PERTURBATIONS)}"
        )
    return name
