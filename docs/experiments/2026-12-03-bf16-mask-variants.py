"""The bf16 mask step with the casts and batch norm changed, against f32.

Full-width I3D (paper strides, 174 classes), 16x112^2; the mask step is one
forward+backward pass to the input, as in docs/experiments/2026-12-03-bf16-
profile.py. Variants of the bfloat16 model (same weights):

* mixed: `mixed_bfloat16`, as shipped (fused batch norm);
* mixed+affine: batch norm in inference as `x * a + b` in bfloat16, where
  `FusedBatchNormGradV3` also computes the unused scale/offset gradients;
* bf16+affine: the `bfloat16` policy (bf16 variables: no per-call weight
  casts) with the affine batch norm.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-mask-variants.py ROUNDS [BATCH]
"""

import collections
import sys

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
from tfvidinterp import models  # noqa: E402, I001

import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvidinterp.models import normalization  # noqa: E402

_FUSED_CALL = normalization.BatchNormalization.call


def _call(self, inputs, training=None, mask=None):
    if getattr(self, "affine", False) and not training:
        a = _f32(self.gamma) * tf.math.rsqrt(
            _f32(self.moving_variance) + self.epsilon
        )
        b = _f32(self.beta) - _f32(self.moving_mean) * a
        return inputs * tf.cast(a, inputs.dtype) + tf.cast(b, inputs.dtype)
    return _FUSED_CALL(self, inputs, training=training, mask=mask)


def _f32(variable):
    return tf.cast(variable, tf.float32)


def build(policy):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = models.build(
        "i3d",
        num_classes=174,
        num_frames=16,
        image_size=112,
        width=1.0,
        original_strides=True,
    )
    keras.mixed_precision.set_global_policy("float32")
    return model


def mask_step(model):
    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            p = tf.nn.softmax(tf.cast(model(x, training=False), tf.float32))
            s = tf.gather(p, y, batch_dims=1)
        return tape.gradient(s, x)

    return step


def main(rounds, batch):
    normalization.BatchNormalization.call = _call
    reference = build("float32")
    variants = {"f32": reference}
    for name, policy, affine in (
        ("mixed", "mixed_bfloat16", False),
        ("mixed+affine", "mixed_bfloat16", True),
        ("bf16+affine", "bfloat16", True),
    ):
        model = build(policy)
        model.set_weights(reference.get_weights())
        for layer in model.layers:
            layer.affine = affine
        variants[name] = model
    x = tf.random.uniform([batch, 16, 112, 112, 3], 0, 255, seed=1)
    y = tf.range(batch) % 174
    steps = {name: mask_step(model) for name, model in variants.items()}
    grads = {name: step(x, y).numpy().ravel() for name, step in steps.items()}
    for name, grad in grads.items():
        print(name, "corr with f32", np.corrcoef(grad, grads["f32"])[0, 1])
    times = collections.defaultdict(list)
    for index in range(rounds):
        order = list(steps) if index % 2 == 0 else list(steps)[::-1]
        for name in order:
            start = time.perf_counter()
            steps[name](x, y).numpy()
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(value)) for name, value in times.items()}
    for name, seconds in median.items():
        print(
            f"{name:14s} {seconds:.3f} s,"
            f" f32/this {median['f32'] / seconds:.2f}"
            f" (of minima {min(times['f32']) / min(times[name]):.2f})"
        )
    print("load", open("/proc/loadavg").read())


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 4)
