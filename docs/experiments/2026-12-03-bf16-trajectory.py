"""Losses of 40 training steps of the synthetic I3D on fixed random clips.

Run twice, on two checkouts, and compare the .npz files:
    python docs/experiments/2026-12-03-bf16-trajectory.py ROOT OUT.npz
"""

import sys

sys.path.insert(0, sys.argv[1])
from tfvidinterp import models  # noqa
import keras
import numpy as np
import tensorflow as tf

tf.config.experimental.enable_op_determinism()
keras.utils.set_random_seed(0)
model = models.build(
    "i3d",
    num_classes=8,
    num_frames=16,
    image_size=64,
    width=0.125,
    dropout=0.0,
    bn_momentum=0.9,
)
opt = keras.optimizers.Adam(2e-3)
rng = np.random.default_rng(0)
x = tf.constant(rng.uniform(0, 255, (40, 8, 16, 64, 64, 3)).astype("f4"))
y = tf.constant(rng.integers(0, 8, (40, 8)).astype("i4"))


@tf.function
def step(x, y):
    with tf.GradientTape() as t:
        loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(
                y, model(x, training=True), from_logits=True
            )
        )
    g = t.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(g, model.trainable_variables))
    return loss


losses = [float(step(x[i], y[i])) for i in range(40)]
np.savez(
    sys.argv[2],
    losses=np.array(losses),
    w=np.concatenate([w.ravel() for w in model.get_weights()]),
)
print(losses[::8])
