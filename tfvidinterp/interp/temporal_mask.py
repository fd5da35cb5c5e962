"""Learned temporal masks: the fewest frames whose perturbation kills a score.

Mänttäri, Broomé et al., "Interpreting Video Features: A Comparison of 3D
Convolutional Networks and Convolutional LSTM Networks", ACCV 2020, §3.1,
https://arxiv.org/abs/2002.00367; after Fong & Vedaldi's meaningful
perturbations, https://arxiv.org/abs/1704.03296.
"""

import copy

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.interp import logits as logits_lib
from tfvidinterp.interp import mask_optimizer
from tfvidinterp.interp import perturbation
from tfvidinterp.interp import tracing

INITS = ("central", "constant")
BINARY_THRESHOLD = 0.5
# The loss, where `benchmarks/masks.py` calls it.
mask_loss = mask_optimizer.mask_loss


class TemporalMaskExplainer:
    """Learns one temporal mask per clip, for whole batches at once.

    A mask is `m = sigmoid(logits)`, one logit per frame; `m_t = 1` perturbs
    frame t. Each clip's mask minimises `mask_optimizer.mask_loss` with its
    own Adam state; the loss is summed over the batch and the model runs in
    inference mode, so a clip's mask is the one it would get alone. All
    iterations run inside one compiled `tf.while_loop`.

    Initialisation `"central"`: the candidates are the centred blocks
    `[i, T - i)`, i = 1 .. T/2 - 1; the smallest block whose freeze still
    reaches 90 % of the target score's drop under freezing the whole clip is
    chosen (the reference code takes one block smaller than that: it stops at
    the first block that fails). Its frames get logit +5, the others -5. When
    no candidate reaches 90 %, or the whole-clip freeze does not lower the
    score at all, the largest block (i = 1) is used. All candidates of all
    clips are scored in one forward pass. `"constant"`: every logit is
    `constant_logit`.

    Early stopping (off by default): a clip stops, its logits frozen, once
    its loss has changed by less than `tol` in `patience` successive steps.

    The model is only called: any Keras model (functional, Sequential,
    nested or subclassed) works. The scores are the softmax of its logits;
    a softmax head is rewired to them (`logits.logits_model`), and a
    subclassed model that returns probabilities is refused.

    Args:
        model: Video classifier (see above).
        perturbation: `"freeze"` or `"reverse"`, the one optimised.
        lambda1: L1 weight: 0.01 (SSv2), 0.02 (KTH).
        lambda2: Total-variation weight: 0.02 (SSv2), 0.04 (KTH).
        beta: Total-variation exponent.
        iterations: Adam steps per mask.
        learning_rate: Adam learning rate on the logits (the paper's table
            says 0.001, the reference code used 0.2; 0.1 was measured best,
            docs/design.md).
        init: `"central"` or `"constant"`.
        constant_logit: Every initial logit when `init="constant"`.
        early_stopping: Whether clips may stop before `iterations`.
        tol: Loss change that counts as no change, for early stopping.
        patience: Successive steps without change before a clip stops.

    Raises:
        errors.InputError: An unknown option, a non-positive count, or a
            number out of its range (`beta` < 1, negative weights or `tol`,
            a `learning_rate` <= 0, any non-finite number): those give NaN
            or meaningless masks.

    Example:
        explainer = TemporalMaskExplainer(model, iterations=300)
        results = explainer(videos)  # results["mask"]: (batch, frames).
        reverse = explainer.with_perturbation("reverse")  # No new trace.
    """

    def __init__(
        self,
        model: keras.Model,
        perturbation: str = "freeze",
        lambda1: float = 0.01,
        lambda2: float = 0.02,
        beta: float = 3.0,
        iterations: int = 300,
        learning_rate: float = 0.1,
        init: str = "central",
        constant_logit: float = 0.0,
        early_stopping: bool = False,
        tol: float = 1e-4,
        patience: int = 10,
    ):
        which = _perturbation_index(perturbation)
        if init not in INITS:
            raise errors.InputError(
                f"unknown mask init {init!r}; known: {INITS}"
            )
        if iterations < 1 or patience < 1:
            raise errors.InputError(
                f"iterations ({iterations}) and patience ({patience}) must be "
                "at least 1"
            )
        mask_optimizer.check_numbers(
            lambda1=lambda1,
            lambda2=lambda2,
            beta=beta,
            learning_rate=learning_rate,
            constant_logit=constant_logit,
            tol=tol,
        )
        self.model = model
        self._logits = logits_lib.logits_model(model)
        self.perturbation = perturbation
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.beta = beta
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.init = init
        self.constant_logit = constant_logit
        self.early_stopping = early_stopping
        self.tol = tol
        self.patience = patience
        # The perturbation is an argument of the compiled functions, and
        # their batch dimension is unknown, so that `with_perturbation` and
        # every batch size share one trace per function.
        self._which = which
        self._prepare = tracing.BatchFunction(self._prepare_graph)
        self._optimize = tracing.BatchFunction(self._optimize_graph)
        self._evaluate = tracing.BatchFunction(self._evaluate_graph)

    def with_perturbation(self, perturbation: str):
        """This explainer optimising for `perturbation` instead, sharing the
        compiled functions (and their traces) with this one."""
        which = _perturbation_index(perturbation)
        other = copy.copy(self)
        other.perturbation = perturbation
        other._which = which
        return other

    def __call__(self, videos, class_ids=None) -> dict:
        """Learns the masks of a batch of clips.

        Args:
            videos: `(batch, frames, height, width, 3)` float in [0, 255].
            class_ids: `(batch,)` int target classes (e.g. the true ones);
                None: each clip's prediction.

        Returns:
            A dict of numpy arrays, first axis the batch: `mask` `(frames,)`
            float in [0, 1]; `binary_mask` (`mask > 0.5`); `mask_length`
            (frames with `mask > 0.5`); `initial_mask`; `target_class`;
            `original_prediction`, `freeze_prediction`, `reverse_prediction`
            (argmax on the clip and after each perturbation with the final
            mask); `original_score`, `freeze_score`, `reverse_score` (OS, FS,
            RS: target-class softmax, the last two re-evaluated with the
            final continuous mask); `loss_curve` `(iterations,)`, the loss
            before each step, constant after the clip stopped; `steps_run`.

        Raises:
            errors.InputError: Videos that do not fit the model, bad class
                ids, or fewer than 4 frames with `init="central"`.
        """
        videos, class_ids = logits_lib.check_inputs(
            self.model, videos, class_ids
        )
        if self.init == "central" and videos.shape[1] < 4:
            raise errors.InputError(
                "central mask init needs at least 4 frames, got "
                f"{videos.shape[1]}"
            )
        prepared = self._prepare(videos, class_ids)
        targets, logits = prepared["target_class"], prepared["initial_logits"]
        logits, curve, steps = self._optimize(
            videos, targets, logits, self._which
        )
        results = self._evaluate(videos, targets, logits)
        results.update(prepared)
        results.update(loss_curve=curve, steps_run=steps)
        results["initial_mask"] = tf.sigmoid(results.pop("initial_logits"))
        return {key: value.numpy() for key, value in results.items()}

    def _probabilities(self, videos):
        logits = self._logits(videos, training=False)
        return tf.nn.softmax(tf.cast(logits, tf.float32))

    def _prepare_graph(self, videos, class_ids):
        """Targets, OS and the initial logits, from one forward pass."""
        batch, frames = tf.shape(videos)[0], tf.shape(videos)[1]
        masks = tf.zeros([1, frames])  # The clip itself.
        if self.init == "central":
            masks = tf.concat(
                [masks, mask_optimizer.central_candidates(frames)], axis=0
            )
        count = tf.shape(masks)[0]
        perturbed = perturbation.freeze(
            tf.repeat(videos, count, axis=0), tf.tile(masks, [batch, 1])
        )
        probs = tf.reshape(self._probabilities(perturbed), [batch, count, -1])
        predicted = tf.argmax(probs[:, 0], axis=-1, output_type=tf.int32)
        targets = tf.where(class_ids < 0, predicted, class_ids)
        scores = tf.gather(probs, targets, axis=2, batch_dims=1)
        if self.init == "central":
            logits = mask_optimizer.central_logits(scores, frames)
        else:
            logits = tf.fill([batch, frames], self.constant_logit)
        return dict(
            target_class=targets,
            original_prediction=predicted,
            original_score=scores[:, 0],
            initial_logits=logits,
        )

    def _losses(self, videos, targets, logits, which):
        masks = tf.sigmoid(logits)
        # Both perturbations are cheap beside the model. Selecting one with
        # `tf.where` keeps the graph free of control flow: with
        # `tf.switch_case`, two traces of one explainer gave masks 4e-5 apart.
        perturbed = perturbation.freeze(videos, masks)
        perturbed = tf.where(
            tf.equal(which, 0), perturbed, perturbation.reverse(videos, masks)
        )
        probs = self._probabilities(perturbed)
        scores = tf.gather(probs, targets, batch_dims=1)
        return mask_optimizer.mask_loss(
            masks, scores, self.lambda1, self.lambda2, self.beta
        )

    def _initial_state(self, logits):
        batch = tf.shape(logits)[0]
        return dict(
            logits=logits,
            m=tf.zeros_like(logits),
            v=tf.zeros_like(logits),
            active=tf.ones([batch], tf.bool),
            still=tf.zeros([batch], tf.int32),
            previous=tf.fill([batch], np.inf),
            steps=tf.zeros([batch], tf.int32),
        )

    def _step(self, videos, targets, state, step, which):
        """One Adam step for every active clip; returns (state, losses)."""
        logits = state["logits"]
        with tf.GradientTape() as tape:
            tape.watch(logits)
            losses = self._losses(videos, targets, logits, which)
        # The gradient of the sum over clips is each clip's own gradient.
        grads = tape.gradient(losses, logits)
        new, m, v = mask_optimizer.adam(
            logits, grads, state["m"], state["v"], step, self.learning_rate
        )
        active = state["active"]
        still = tf.where(
            tf.abs(losses - state["previous"]) < self.tol, state["still"] + 1, 0
        )
        state = dict(
            logits=tf.where(active[:, None], new, logits),
            m=m,
            v=v,
            active=active,
            still=still,
            previous=losses,
            steps=state["steps"] + tf.cast(active, tf.int32),
        )
        if self.early_stopping:
            state["active"] = active & (still < self.patience)
        return state, losses

    def _optimize_graph(self, videos, targets, logits, which):
        curve = tf.TensorArray(tf.float32, size=self.iterations)

        def body(i, state, curve):
            state, losses = self._step(
                videos, targets, state, tf.cast(i + 1, tf.float32), which
            )
            return i + 1, state, curve.write(i, losses)

        def cond(i, state, curve):
            return (i < self.iterations) & tf.reduce_any(state["active"])

        done, state, curve = tf.while_loop(
            cond, body, (0, self._initial_state(logits), curve)
        )
        # After every clip stopped, the curve repeats its last losses.
        rows = tf.minimum(tf.range(self.iterations), done - 1)
        curve = tf.transpose(curve.gather(rows))
        return state["logits"], curve, state["steps"]

    def _evaluate_graph(self, videos, targets, logits):
        """FS, RS and the predictions, with the final mask, in one pass."""
        masks = tf.sigmoid(logits)
        both = tf.concat(
            [
                perturbation.freeze(videos, masks),
                perturbation.reverse(videos, masks),
            ],
            axis=0,
        )
        probs = tf.split(self._probabilities(both), 2, axis=0)
        binary = masks > BINARY_THRESHOLD
        return dict(
            mask=masks,
            binary_mask=binary,
            mask_length=tf.reduce_sum(tf.cast(binary, tf.int32), axis=-1),
            freeze_score=tf.gather(probs[0], targets, batch_dims=1),
            reverse_score=tf.gather(probs[1], targets, batch_dims=1),
            freeze_prediction=tf.argmax(probs[0], -1, output_type=tf.int32),
            reverse_prediction=tf.argmax(probs[1], -1, output_type=tf.int32),
        )


def _perturbation_index(name):
    """`name`'s index into `perturbation.PERTURBATIONS` as a tensor, the
    argument that selects it in the compiled functions; an unknown name is
    an error."""
    return tf.constant(
        list(perturbation.PERTURBATIONS).index(perturbation.check(name))
    )
