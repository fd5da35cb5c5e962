"""First-call vs later-call seconds of the synthetic I3D's mask explainer.

Run from anywhere:
    flock /tmp/tfvidinterp_bench.lock python \
        docs/experiments/2026-12-03-bf16-trace-time.py ROOT OUT.npz
ROOT: the checkout whose tfvidinterp and configs are imported; the masks go
to OUT.npz, to compare two checkouts.
"""

import sys
import time

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from configs import i3d_synthetic  # noqa: E402
from tfvidinterp.jobs import explain  # noqa: E402
from tfvidinterp.jobs import train  # noqa: E402

config = i3d_synthetic.get_config()
tf.config.experimental.enable_op_determinism()  # As the demo.
tf.keras.utils.set_random_seed(0)
model = train.build_model(config, num_classes=8)
masker = explain.make_masker(model, config.interp)
videos = np.random.default_rng(0).uniform(0, 255, (8, 16, 64, 64, 3))
videos = videos.astype("f4")
calls = [
    ("freeze", 8),
    ("freeze", 8),
    ("reverse", 8),
    ("reverse", 3),
    ("freeze", 3),
    ("freeze", 8),
]
masks = {}
for kind, batch in calls:
    start = time.perf_counter()
    out = masker.with_perturbation(kind)(videos[:batch])
    seconds = time.perf_counter() - start
    masks[(kind, batch)] = out["mask"]
    print(f"{kind} b={batch}: {seconds:.2f} s", flush=True)
print("traces", masker._optimize.experimental_get_tracing_count())
np.savez(sys.argv[2], **{f"{k}{b}": m for (k, b), m in masks.items()})
