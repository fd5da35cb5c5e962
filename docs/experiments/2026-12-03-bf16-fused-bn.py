"""bf16 / f32 of the I3D's train step, mask step and Grad-CAM at the
representative size, with Keras's batch norm (before) and the fused one
(`models.normalization`, after) in one process, in alternating rounds.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-fused-bn.py [REPEATS]
"""

import sys
import types

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
from tfvidinterp.models import i3d  # noqa: E402, I001

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import precision  # noqa: E402
from benchmarks import passes  # noqa: E402
from benchmarks import timing  # noqa: E402
from configs import benchmark  # noqa: E402
from tfvidinterp.interp import grad_cam  # noqa: E402

name = "i3d"
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 6
config = benchmark.get_config()
config.num_classes = 174
config.image_size = 112
config.i3d = dict(width=1.0, original_strides=True)
config.clstm.filters = 32
batch = config.precision.batch_size
policy = config.precision.policy

bench = passes.Workbench(config)
after = precision._bench_under(bench, name, policy)
# "Before": the same model with Keras's batch norm layer.
fused = i3d.normalization
i3d.normalization = types.SimpleNamespace(
    BatchNormalization=keras.layers.BatchNormalization
)
try:
    before = precision._bench_under(bench, name, policy)
finally:
    i3d.normalization = fused
videos, labels = bench.videos(batch), bench.labels(batch)
calls = {}
for tag, side in (
    ("f32", bench),
    ("bf16 before", before),
    ("bf16 after", after),
):
    step = side.train_step(name)
    gradient = side.forward_backward(name)
    cam = grad_cam.GradCAM(side.model(name))
    calls[f"train {tag}"] = lambda s=step: float(s(videos, labels))
    calls[f"mask {tag}"] = lambda g=gradient: g(videos, labels).numpy()
    calls[f"gradcam {tag}"] = lambda c=cam: tf.reduce_sum(
        c.explain(videos)["heatmaps"]
    ).numpy()
times = timing.interleaved(calls, repeats)
for kind in ("train", "mask", "gradcam"):
    f32 = timing.median(times[f"{kind} f32"])
    line = [f"{name} {kind}: f32 {f32:.3f} s"]
    for tag in ("bf16 before", "bf16 after"):
        low = timing.median(times[f"{kind} {tag}"])
        line.append(f"{tag} {low:.3f} s ({f32 / low:.2f}x)")
    print(", ".join(line), flush=True)
