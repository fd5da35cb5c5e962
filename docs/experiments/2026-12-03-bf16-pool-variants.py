"""The pooling's cost in bf16: two alternatives to the shipped layer.

1. Per layer, forward+backward of `ShiftedMaxPooling3D` at three of the
   full-width I3D's pooling shapes (b=4, 16x112^2 input) in bfloat16 and
   float32, by TensorFlow's gradient ("auto") against the same layer inside
   `tf.function(jit_compile=True)` ("xla": XLA fuses the maxima and their
   gradient); gradients compared exactly.
2. The whole I3D under `mixed_bfloat16` with every pooling computed in
   float32 (cast in, cast out) against the shipped bfloat16 pooling, train
   and mask steps, against float32, interleaved.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-pool-variants.py ROUNDS
"""

import sys

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
import tfvidinterp  # noqa: E402, F401, I001

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import passes  # noqa: E402
from benchmarks import precision  # noqa: E402
from benchmarks import timing  # noqa: E402
from configs import benchmark  # noqa: E402
from tfvidinterp.models import pooling  # noqa: E402

_CASES = (
    ((4, 8, 14, 14, 480), (3, 3, 3), (1, 1, 1)),
    ((4, 16, 56, 56, 64), (1, 3, 3), (1, 2, 2)),
    ((4, 8, 28, 28, 192), (3, 3, 3), (1, 1, 1)),
)
_SHIPPED_CALL = pooling.ShiftedMaxPooling3D.call


def _call(self, inputs):
    if getattr(self, "in_float32", False) and inputs.dtype != tf.float32:
        outputs = _SHIPPED_CALL(self, tf.cast(inputs, tf.float32))
        return tf.cast(outputs, inputs.dtype)
    return _SHIPPED_CALL(self, inputs)


def _forward_backward(pool):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = pool(x)
            weights = tf.reshape(tf.range(tf.size(y)) % 5, tf.shape(y))
            loss = tf.reduce_sum(
                tf.cast(y * tf.cast(weights, y.dtype), "float32")
            )
        return tape.gradient(loss, x)

    return step


def per_layer(rounds):
    for shape, size, stride in _CASES:
        for dtype in ("bfloat16", "float32"):
            x = tf.cast(tf.nn.relu(tf.random.normal(shape, seed=1)), dtype)
            layer = pooling.ShiftedMaxPooling3D(size, stride)
            steps = {
                "auto": _forward_backward(layer.call),
                "xla": _forward_backward(
                    tf.function(layer.call, jit_compile=True)
                ),
            }
            auto, xla = (
                steps[name](x).numpy().astype("float32") for name in steps
            )
            times = timing.interleaved(
                {name: lambda s=s: s(x).numpy() for name, s in steps.items()},
                rounds,
            )
            auto_s, xla_s = (timing.median(times[name]) for name in steps)
            print(
                shape,
                size,
                stride,
                dtype,
                f"auto {auto_s * 1e3:.1f} ms, xla {xla_s * 1e3:.1f} ms,"
                f" auto/xla {auto_s / xla_s:.2f},"
                f" gradients equal {np.array_equal(auto, xla)}",
            )


def whole_model(rounds):
    pooling.ShiftedMaxPooling3D.call = _call
    config = benchmark.get_config()
    config.num_classes = 174
    config.image_size = 112
    config.i3d = dict(width=1.0, original_strides=True)
    bench = passes.Workbench(config)
    shipped = precision._bench_under(bench, "i3d", "mixed_bfloat16")
    cast = precision._bench_under(bench, "i3d", "mixed_bfloat16")
    for layer in cast.model("i3d").layers:
        layer.in_float32 = True
    videos, labels = bench.videos(4), bench.labels(4)
    calls = {}
    for tag, side in (("f32", bench), ("bf16", shipped), ("bf16cast", cast)):
        step, mask = side.train_step("i3d"), side.forward_backward("i3d")
        calls[f"train {tag}"] = lambda s=step: float(s(videos, labels))
        calls[f"mask {tag}"] = lambda g=mask: g(videos, labels).numpy()
    times = timing.interleaved(calls, rounds)
    seconds = {name: timing.median(value) for name, value in times.items()}
    for kind in ("train", "mask"):
        f32 = seconds[f"{kind} f32"]
        print(
            kind,
            f"bf16 pooling {f32 / seconds[f'{kind} bf16']:.2f}x,",
            f"f32 pooling {f32 / seconds[f'{kind} bf16cast']:.2f}x",
        )


if __name__ == "__main__":
    per_layer(int(sys.argv[1]))
    whole_model(int(sys.argv[1]))
    print("load", open("/proc/loadavg").read())
