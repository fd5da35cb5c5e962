"""Deletion and insertion curves of a frame order, in time.

Petsiuk et al., "RISE: Randomized Input Sampling for Explanation of
Black-box Models", BMVC 2018, https://arxiv.org/abs/1806.07421: pixels
removed or restored in order of importance; here whole frames, perturbed
by 'freeze' or 'reverse' with binary masks.
"""

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp.interp import logits as logits_lib
from tfvidinterp.interp import perturbation as perturbation_lib
from tfvidinterp.measures import temporal


class DeletionInsertion:
    """Deletion and insertion curves: frames perturbed or restored in order.

    Deletion perturbs the first k frames of an order, for k = 0..T, and
    scores each clip with the softmax probability of the target class;
    insertion starts from the whole clip perturbed and restores the first k.
    A faithful order's deletion curve falls faster (a smaller area, the mean
    of its T + 1 scores) and its insertion curve rises faster than those of
    random orders. The curve points of a clip run together, in batches of
    `batch_size`.

    Args:
        model: Any Keras video classifier; a softmax head is scored on
            its logits (`logits.logits_model`).
        perturbation: `"freeze"` or `"reverse"`, with binary masks.
        batch_size: Perturbed clips per forward pass.

    Raises:
        errors.InputError: An unknown perturbation.

    Example:
        curves = DeletionInsertion(model, "freeze")
        deletion, insertion = curves(video, [order], target_class=3)
    """

    def __init__(
        self,
        model: keras.Model,
        perturbation: str = "freeze",
        batch_size: int = 64,
    ):
        perturb = perturbation_lib.PERTURBATIONS[
            perturbation_lib.check(perturbation)
        ]
        self.batch_size = batch_size
        self.model = model
        logits_of = logits_lib.logits_model(model)

        def scores(video, masks, target):
            videos = tf.repeat(video[None], tf.shape(masks)[0], axis=0)
            logits = logits_of(perturb(videos, masks), training=False)
            return tf.nn.softmax(tf.cast(logits, tf.float32))[:, target]

        self._scores = tf.function(scores, reduce_retracing=True)

    def __call__(self, video, orders, target_class: int):
        """Returns `(deletion, insertion)` scores, each `(orders, T + 1)`.

        Args:
            video: `(T, H, W, 3)` float or uint8 in [0, 255] (`run` gives
                the frames `explain` stored, rounded to uint8).
            orders: `(orders, T)` int frame orders, most important first.
            target_class: The class whose probability is scored.

        Raises:
            errors.InputError: A subclassed model that returns
                probabilities (`logits.num_classes`).
        """
        orders = np.asarray(orders)
        masks = np.concatenate([temporal.order_masks(o) for o in orders])
        masks = np.concatenate([masks, 1.0 - masks])
        video = tf.convert_to_tensor(np.asarray(video, np.float32))
        logits_lib.num_classes(self.model, video[None])
        target = tf.constant(target_class, tf.int32)
        scores = np.concatenate(
            [
                self._scores(video, masks[i : i + self.batch_size], target)
                for i in range(0, len(masks), self.batch_size)
            ]
        )
        deletion, insertion = scores.reshape(2, len(orders), -1)
        return deletion, insertion
