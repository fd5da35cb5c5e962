"""Op-type time of the I3D train step and mask pass, bf16 vs f32.

Run from the repository root (ROOT: another checkout to import):
    flock /tmp/tfvidinterp_bench.lock python \
        docs/experiments/2026-12-03-bf16-profile.py WIDTH SIZE BATCH ROUNDS \
        [noprofile]
"""

import collections
import glob
import os
import sys
import time

sys.path.insert(0, os.environ.get("ROOT", "."))
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
from tfvidinterp import models  # noqa: E402, I001

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

width, size, batch = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
steps = int(sys.argv[4])
passes = {}
for policy in ("float32", "mixed_bfloat16"):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = models.build(
        "i3d",
        num_classes=174,
        num_frames=16,
        image_size=size,
        width=width,
        original_strides=True,
    )
    keras.mixed_precision.set_global_policy("float32")
    opt = keras.optimizers.Adam(1e-3)
    opt.build(model.trainable_variables)

    def make(model=model, opt=opt):
        @tf.function
        def train(x, y):
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                loss = tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(
                        y, logits, from_logits=True
                    )
                )
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        @tf.function
        def mask(x, y):
            with tf.GradientTape() as tape:
                tape.watch(x)
                p = tf.nn.softmax(tf.cast(model(x, training=False), tf.float32))
                s = tf.gather(p, y, batch_dims=1)
            return tf.reduce_sum(tf.square(tape.gradient(s, x)))

        return train, mask

    passes[policy] = make()

x = tf.random.uniform([batch, 16, size, size, 3], 0, 255, seed=1)
y = tf.range(batch) % 174
for policy, fns in passes.items():
    for fn in fns:
        float(fn(x, y))  # trace + warm

times = collections.defaultdict(list)
for r in range(steps):
    order = list(passes) if r % 2 == 0 else list(passes)[::-1]
    for policy in order:
        for kind, fn in zip(("train", "mask"), passes[policy]):
            t = time.perf_counter()
            float(fn(x, y))
            times[policy, kind].append(time.perf_counter() - t)
for k, v in sorted(times.items()):
    print(k, "median %.3f s" % sorted(v)[len(v) // 2], ["%.2f" % t for t in v])
for kind in ("train", "mask"):
    f = sorted(times["float32", kind])[steps // 2]
    b = sorted(times["mixed_bfloat16", kind])[steps // 2]
    print(f"{kind}: f32/bf16 time ratio {f / b:.2f}")


def profile(fn, tag):
    logdir = f"/tmp/bf16_prof/{tag}"
    tf.profiler.experimental.start(logdir)
    for _ in range(2):
        float(fn(x, y))
    tf.profiler.experimental.stop()
    path = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))[-1]
    space = xplane_pb2.XSpace()
    space.ParseFromString(open(path, "rb").read())
    totals = collections.Counter()
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        meta = plane.event_metadata
        for line in plane.lines:
            for ev in line.events:
                name = meta[ev.metadata_id].name
                if ":" in name and not name.startswith("__"):
                    totals[name.split(":")[-1]] += ev.duration_ps / 1e12 / 2
    return totals


for kind, i in (("train", 0), ("mask", 1)) if len(sys.argv) < 6 else ():
    tf32 = profile(passes["float32"][i], "f32" + kind)
    tb16 = profile(passes["mixed_bfloat16"][i], "bf16" + kind)
    print(f"== {kind}: op type, f32 s, bf16 s (per step, summed over threads)")
    for op in sorted(
        set(tf32) | set(tb16), key=lambda o: -max(tf32[o], tb16[o])
    )[:25]:
        print(f"{op:40s} {tf32[op]:8.3f} {tb16[op]:8.3f}")
    print("total", round(sum(tf32.values()), 3), round(sum(tb16.values()), 3))
