"""Tests for tfvidinterp.interp.temporal_mask."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from keras import ops

from tests import testing
from tfvidinterp import errors
from tfvidinterp.interp import mask_optimizer
from tfvidinterp.interp import perturbation
from tfvidinterp.interp import temporal_mask


def _window_model(frames, start, end, gain=2.0):
    """Class 0's logit is the motion into frames [start, end); class 1's is 0.

    Freezing exactly the frames [start, end) removes all the evidence.
    """

    def logits(videos):
        motion = ops.mean(ops.abs(videos[:, 1:] - videos[:, :-1]), (2, 3, 4))
        evidence = gain * ops.sum(motion[:, start - 1 : end - 1], 1)[:, None]
        return ops.concatenate([evidence, ops.zeros_like(evidence)], 1)

    inputs = keras.Input((frames, 4, 4, 1))
    outputs = keras.layers.Lambda(logits, name="Logits")(inputs)
    return keras.Model(inputs, outputs)


def _conv_model(frames=6, size=8, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((frames, size, size, 3))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Conv3D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="Logits")(x))


def _videos(batch, frames, size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (batch, frames, size, size, 3)).astype("f4")


class LossTest(tf.test.TestCase):
    def test_hand_computed_terms(self):
        masks = tf.constant([[0.0, 0.5, 1.0, 1.0], [0.2, 0.2, 0.2, 0.2]])
        self.assertAllClose(mask_optimizer.l1_norm(masks), [2.5, 0.8])
        self.assertAllClose(mask_optimizer.tv_norm(masks), [0.25, 0.0])
        self.assertAllClose(mask_optimizer.tv_norm(masks, beta=2.0), [0.5, 0])
        self.assertAllClose(
            mask_optimizer.mask_loss(masks, tf.constant([0.3, 0.1])),
            [0.01 * 2.5 + 0.02 * 0.25 + 0.3, 0.01 * 0.8 + 0.1],
        )

    def test_adam_matches_keras(self):
        grads = np.random.default_rng(0).normal(size=(5, 2, 3)).astype("f4")
        variable = tf.Variable(np.ones((2, 3), np.float32))
        optimizer = keras.optimizers.Adam(learning_rate=0.1)
        params, m, v = tf.ones((2, 3)), tf.zeros((2, 3)), tf.zeros((2, 3))
        for step, grad in enumerate(grads, start=1):
            optimizer.apply([grad], [variable])
            params, m, v = mask_optimizer.adam(params, grad, m, v, step, 0.1)
        self.assertAllClose(params, variable, atol=1e-5)


class TemporalMaskTest(tf.test.TestCase, parameterized.TestCase):
    def test_central_init_is_smallest_block_reaching_90_percent(self):
        model = _window_model(16, 5, 9, gain=10.0)
        rng = np.random.default_rng(0)
        moving = rng.uniform(0, 1, (1, 16, 4, 4, 1))
        still = np.ones((1, 16, 4, 4, 1)) * rng.uniform(0, 1, (1, 1, 4, 4, 1))
        videos = np.concatenate([moving, still]).astype(np.float32)
        explainer = temporal_mask.TemporalMaskExplainer(model, iterations=1)
        results = explainer(videos, class_ids=[0, 0])
        # Blocks [i, 16 - i) hold the window [5, 9) up to i = 5; [6, 10)
        # keeps the motion into frame 5 (the reference would stop there).
        self.assertAllEqual(results["initial_mask"][0] > 0.5, _on(16, 5, 11))
        self.assertAllClose(results["initial_mask"][0, 5], 1 / (1 + np.exp(-5)))
        # The still clip's score cannot drop: the largest block, [1, 15).
        self.assertAllEqual(results["initial_mask"][1] > 0.5, _on(16, 1, 15))
        self.assertAllClose(results["original_score"], [1.0, 0.5], atol=1e-4)

    def test_learns_the_evidence_window(self):
        model = _window_model(12, 4, 8)
        videos = np.random.default_rng(1).uniform(0, 1, (2, 12, 4, 4, 1))
        explainer = temporal_mask.TemporalMaskExplainer(
            model, iterations=100, init="constant", learning_rate=0.1
        )
        results = explainer(videos.astype(np.float32))
        self.assertAllEqual(results["target_class"], [0, 0])
        self.assertAllEqual(results["binary_mask"], [_on(12, 4, 8)] * 2)
        self.assertAllEqual(results["mask_length"], [4, 4])
        self.assertAllGreater(results["original_score"], 0.9)
        self.assertAllClose(results["freeze_score"], [0.5, 0.5], atol=0.02)
        self.assertAllClose(results["initial_mask"], np.full((2, 12), 0.5))
        curve = results["loss_curve"]
        self.assertEqual(curve.shape, (2, 100))
        self.assertTrue(np.all(curve[:, -1] < curve[:, 0] - 0.2))

    @parameterized.parameters("freeze", "reverse")
    def test_batch_equals_single(self, kind):
        model = _conv_model()
        videos = _videos(3, 6, 8)
        explainer = temporal_mask.TemporalMaskExplainer(
            model, perturbation=kind, iterations=15, learning_rate=0.2
        )
        together = explainer(videos)
        for i in range(3):
            alone = explainer(videos[i : i + 1])
            for key in ("mask", "loss_curve", "freeze_score", "reverse_score"):
                self.assertAllClose(together[key][i], alone[key][0], atol=1e-4)
        self.assertEqual(
            explainer._optimize.experimental_get_tracing_count(), 1
        )

    def test_scores_are_re_evaluated_with_final_mask(self):
        model = _conv_model()
        videos = _videos(2, 6, 8, seed=3)
        results = temporal_mask.TemporalMaskExplainer(model, iterations=5)(
            videos, class_ids=[2, 0]
        )
        mask = results["mask"]
        for key, clips in (
            ("original", videos),
            ("freeze", perturbation.freeze(videos, mask)),
            ("reverse", perturbation.reverse(videos, mask)),
        ):
            probs = tf.nn.softmax(model(clips, training=False)).numpy()
            self.assertAllClose(
                results[f"{key}_score"], probs[[0, 1], [2, 0]], atol=1e-5
            )
            self.assertAllEqual(results[f"{key}_prediction"], probs.argmax(-1))
        self.assertAllEqual(results["target_class"], [2, 0])

    def test_early_stopping_is_per_clip(self):
        model = _window_model(8, 3, 6)  # The still clip's score is fixed.
        rng = np.random.default_rng(2)
        still = np.ones((1, 8, 4, 4, 1)) * rng.uniform(0, 1, (1, 1, 4, 4, 1))
        moving = rng.uniform(0, 1, (1, 8, 4, 4, 1))
        videos = np.concatenate([still, moving]).astype(np.float32)
        settings = dict(init="constant", constant_logit=-3.0, learning_rate=0.1)
        results = temporal_mask.TemporalMaskExplainer(
            model,
            iterations=40,
            early_stopping=True,
            tol=1e-3,
            patience=3,
            **settings,
        )(videos, class_ids=[0, 0])
        stopped, running = results["steps_run"]
        self.assertLess(stopped, running)
        self.assertLess(stopped, 40)
        # The stopped clip's mask is the one after exactly that many steps.
        fixed = temporal_mask.TemporalMaskExplainer(
            model, iterations=int(stopped), **settings
        )(videos, class_ids=[0, 0])
        self.assertAllClose(results["mask"][0], fixed["mask"][0], atol=1e-6)
        self.assertNotAllClose(results["mask"][1], fixed["mask"][1])
        curve = results["loss_curve"][0]
        self.assertAllClose(curve[stopped:], np.full(40 - stopped, curve[-1]))

    @parameterized.named_parameters(
        ("i3d", "i3d", {}), ("clstm", "clstm", {"num_layers": 2})
    )
    def test_runs_on_tiny_models(self, name, kwargs):
        model = testing.tiny_model(name, frames=4, size=16, **kwargs)
        results = temporal_mask.TemporalMaskExplainer(model, iterations=2)(
            testing.tiny_videos(batch=2, frames=4, size=16)
        )
        for key in ("mask", "binary_mask", "initial_mask"):
            self.assertEqual(results[key].shape, (2, 4))
        self.assertEqual(results["loss_curve"].shape, (2, 2))
        self.assertAllEqual(results["steps_run"], [2, 2])
        self.assertAllInRange(results["freeze_score"], 0.0, 1.0)
        self.assertTrue(np.isfinite(results["loss_curve"]).all())

    def test_compiled_mask_gradient_matches_eager_on_i3d(self):
        """Fails where a graph-mode kernel has a wrong gradient (TF 2.21 with
        TF_ENABLE_ONEDNN_OPTS=1: two chained MaxPool3D ops, as in I3D)."""
        model = testing.tiny_model("i3d", frames=4, size=16)
        explainer = temporal_mask.TemporalMaskExplainer(model)
        videos = testing.tiny_videos(batch=2, frames=4, size=16)
        logits = tf.constant(np.random.default_rng(0).normal(size=(2, 4)))
        logits = tf.cast(logits, tf.float32)

        def grads(logits):
            with tf.GradientTape() as tape:
                tape.watch(logits)
                losses = explainer._losses(
                    videos, tf.constant([0, 1]), logits, explainer._which
                )
            return tape.gradient(losses, logits)

        eager = grads(logits)
        self.assertGreater(np.abs(eager).max(), 1e-3)
        self.assertAllClose(tf.function(grads)(logits), eager, atol=1e-6)

    def test_with_perturbation_shares_the_traces(self):
        model = _conv_model()
        videos = _videos(2, 6, 8)
        freeze = temporal_mask.TemporalMaskExplainer(model, iterations=3)
        reverse = freeze.with_perturbation("reverse")
        self.assertEqual(
            (freeze.perturbation, reverse.perturbation), ("freeze", "reverse")
        )
        shared = reverse(videos)
        self.assertEqual(freeze._optimize.experimental_get_tracing_count(), 1)
        own = temporal_mask.TemporalMaskExplainer(
            model, perturbation="reverse", iterations=3
        )(videos)
        for key in ("mask", "loss_curve", "reverse_score"):
            self.assertAllClose(shared[key], own[key], atol=1e-6)
        first = freeze(videos)
        self.assertNotAllClose(first["loss_curve"], shared["loss_curve"])
        # A last, short batch of either perturbation: still one trace each.
        for explainer in (freeze, reverse):
            explainer(videos[:1])
        for function in (freeze._prepare, freeze._optimize, freeze._evaluate):
            self.assertEqual(function.experimental_get_tracing_count(), 1)
        with self.assertRaisesRegex(errors.InputError, "perturbation 'blur'"):
            freeze.with_perturbation("blur")

    def test_errors(self):
        model = _conv_model()
        with self.assertRaisesRegex(errors.InputError, "perturbation 'blur'"):
            temporal_mask.TemporalMaskExplainer(model, perturbation="blur")
        with self.assertRaisesRegex(errors.InputError, "init 'random'"):
            temporal_mask.TemporalMaskExplainer(model, init="random")
        with self.assertRaisesRegex(errors.InputError, "iterations"):
            temporal_mask.TemporalMaskExplainer(model, iterations=0)
        explainer = temporal_mask.TemporalMaskExplainer(model, iterations=1)
        with self.assertRaisesRegex(errors.InputError, "do not fit"):
            explainer(_videos(2, 5, 8))
        with self.assertRaisesRegex(errors.InputError, "class_ids"):
            explainer(_videos(2, 6, 8), class_ids=[0, 7])

    @parameterized.parameters(
        ("beta", 0.5, ">= 1"),
        ("beta", float("nan"), ">= 1"),
        ("lambda1", -0.1, ">= 0"),
        ("lambda2", float("inf"), ">= 0"),
        ("learning_rate", 0.0, "> 0"),
        ("constant_logit", float("nan"), ", got nan"),
        ("tol", -1.0, ">= 0"),
    )
    def test_numbers_that_give_nan_masks_are_refused(self, name, value, rule):
        with self.assertRaisesRegex(
            errors.InputError, f"^mask {name} must be a finite number.*{rule}"
        ):
            temporal_mask.TemporalMaskExplainer(_conv_model(), **{name: value})

    def test_beta_of_one_gives_finite_masks(self):
        # The smallest beta allowed: |x|^1 has the finite gradient 0 where
        # neighbouring mask values are equal, where beta < 1 gives NaN.
        explainer = temporal_mask.TemporalMaskExplainer(
            _conv_model(), beta=1.0, iterations=3
        )
        masks = explainer(_videos(2, 6, 8))
        self.assertTrue(np.all(np.isfinite(masks["mask"])))


def _on(frames, start, end):
    return (np.arange(frames) >= start) & (np.arange(frames) < end)


if __name__ == "__main__":
    tf.test.main()
