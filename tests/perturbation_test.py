"""Tests for tfvidinterp.interp.perturbation."""

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tfvidinterp.interp import perturbation


def _naive_freeze(videos, masks):
    out = videos.copy()
    for t in range(1, videos.shape[1]):
        m = masks[:, t, None, None, None]
        out[:, t] = (1.0 - m) * videos[:, t] + m * out[:, t - 1]
    return out


def _numbered(frames):
    """One clip whose frame t (0-based) has every pixel equal to t + 1."""
    return np.arange(1.0, frames + 1, dtype=np.float32).reshape(
        1, frames, 1, 1, 1
    ) * np.ones((1, 1, 2, 3, 1), np.float32)


class FreezeTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(("continuous", False), ("exact", True))
    def test_matches_frame_by_frame_recurrence(self, exact):
        rng = np.random.default_rng(0)
        videos = rng.normal(size=(3, 7, 2, 3, 2)).astype(np.float32)
        masks = rng.uniform(size=(3, 7)).astype(np.float32)
        if exact:
            masks[0, [1, 4]] = 0.0
            masks[1, 2:6] = 1.0
            masks[2] = [1, 0, 1, 1, 0, 0, 1]
        self.assertAllClose(
            perturbation.freeze(videos, masks),
            _naive_freeze(videos, masks),
            atol=1e-6,
        )

    def test_binary_mask_repeats_last_kept_frame(self):
        masks = np.array([[1, 0, 1, 1, 0, 1]], np.float32)
        frozen = perturbation.freeze(_numbered(6), masks)
        self.assertAllEqual(frozen[0, :, 0, 0, 0], [1, 2, 2, 2, 5, 5])

    def test_mixing_rows_sum_to_one(self):
        masks = np.random.default_rng(1).uniform(size=(2, 9))
        matrix = perturbation.freeze_matrix(masks.astype(np.float32))
        self.assertAllClose(tf.reduce_sum(matrix, -1), np.ones((2, 9)))
        self.assertAllEqual(np.triu(matrix, 1), np.zeros((2, 9, 9)))

    def test_gradient_is_finite_at_zero_and_one(self):
        videos = np.random.default_rng(2).normal(size=(2, 5, 2, 2, 1))
        masks = tf.constant([[0, 0, 1, 0.5, 0], [1, 1, 0, 1, 1]], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(masks)
            out = perturbation.freeze(videos.astype(np.float32), masks)
            loss = tf.reduce_sum(out**2)
        grads = tape.gradient(loss, masks)
        self.assertTrue(np.isfinite(grads).all())
        self.assertAllEqual(grads[:, 0], [0, 0])  # m_0 has no effect.
        # Against a central difference at a mask value of exactly 0.
        eps = 1e-3
        bumped = masks.numpy()
        bumped[0, 1] += eps
        plus = np.sum(_naive_freeze(videos, bumped) ** 2)
        bumped[0, 1] -= 2 * eps
        minus = np.sum(_naive_freeze(videos, bumped) ** 2)
        self.assertAllClose(grads[0, 1], (plus - minus) / (2 * eps), rtol=1e-3)


class ReverseTest(tf.test.TestCase, parameterized.TestCase):
    def test_paper_example(self):
        masks = np.array(
            [[0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0]], np.float32
        )
        reversed_ = perturbation.reverse(_numbered(16), masks)
        self.assertAllEqual(
            reversed_[0, :, 1, 2, 0],
            [1, 2, 3, 8, 7, 6, 5, 4, 9, 10, 11, 12, 13, 15, 14, 16],
        )

    def test_continuous_mask_blends_with_first_half_value(self):
        # Runs above 0.1: frames 1-4 and frame 6 alone; frame 5 (0.1) is off.
        masks = np.array([[0.05, 0.5, 0.8, 0.3, 0.9, 0.1, 0.7]], np.float32)
        out = perturbation.reverse(_numbered(7), masks)[0, :, 0, 0, 0]
        x = np.arange(1.0, 8.0)
        expected = x.copy()
        expected[1] = 0.5 * x[1] + 0.5 * x[4]
        expected[4] = 0.5 * x[4] + 0.5 * x[1]
        expected[2] = 0.2 * x[2] + 0.8 * x[3]
        expected[3] = 0.2 * x[3] + 0.8 * x[2]
        self.assertAllClose(out, expected)

    def test_partners_per_clip(self):
        masks = np.array(
            [[1, 1, 1, 0, 1, 1], [0, 1, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]],
            np.float32,
        )
        self.assertAllEqual(
            perturbation.reverse_partners(masks),
            [[2, 1, 0, 3, 5, 4], [0, 1, 2, 5, 4, 3], [0, 1, 2, 3, 4, 5]],
        )

    def test_gradient_flows_to_blend_weights(self):
        masks = tf.constant([[0.0, 0.6, 0.6, 0.0]])
        with tf.GradientTape() as tape:
            tape.watch(masks)
            out = perturbation.reverse(_numbered(4), masks)
            loss = tf.reduce_sum(out[:, 1])  # 6 * ((1 - m1) * 2 + m1 * 3)
        self.assertAllClose(tape.gradient(loss, masks), [[0, 6, 0, 0]])


if __name__ == "__main__":
    tf.test.main()
