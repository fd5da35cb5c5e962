"""explain's mask optimisation on a bfloat16-trained run: as explain now
builds it (the run's precision) against the same run forced to float32.

Both explainers come from `explain.load` (`precision="run"` and
`"float32"`), with the run's `interp` options but ITERATIONS steps. The
first CLIPS clips of the run's eval split are one batch; each explainer's
mask call (`TemporalMaskExplainer.__call__`: the initialisation pass, the
Adam loop, the final evaluation) is traced once, then timed in ROUNDS
alternating rounds. The targets are the float32 model's predictions for
both, so the masks compare: IoU of the binary masks, largest difference of
a mask value, equal binary masks.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-explain-precision.py RUN_DIR CLIPS \
        ITERATIONS ROUNDS
"""

import json
import sys
import time

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
from tfvidinterp.jobs import explain  # noqa: E402, I001

import numpy as np  # noqa: E402

from tfvidinterp.data import pipeline  # noqa: E402
from tfvidinterp.jobs import train  # noqa: E402
from tfvidinterp.measures import temporal  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


workdir, clips, iterations, rounds = sys.argv[1], *map(int, sys.argv[2:5])
config = train.run_config(None, workdir)
config.interp.iterations = iterations
explainers = {
    choice: explain.load(config, workdir, precision=choice)[1]
    for choice in ("run", "float32")
}
batch = next(
    iter(
        pipeline.from_config(config.input, config.eval.split, batch_size=clips)
    )
)
videos = batch["frames"].numpy()
targets = explainers["float32"].cam.explain(videos)["class_ids"].numpy()
summary = {
    "run": workdir,
    "precision": {k: e.precision for k, e in explainers.items()},
    "clips": clips,
    "frames x size": list(videos.shape[1:4]),
    "iterations": iterations,
    "load before": loadavg(),
}
masks, seconds = {}, {k: [] for k in explainers}
for key, explainer in explainers.items():
    begin = time.time()
    masks[key] = explainer.masker(videos, targets)  # Traces.
    summary[f"first call {key} s"] = round(time.time() - begin, 2)
for _ in range(rounds):
    for key, explainer in explainers.items():
        begin = time.time()
        masks[key] = explainer.masker(videos, targets)
        seconds[key].append(round(time.time() - begin, 2))
summary["seconds per call"] = seconds
median = {k: float(np.median(v)) for k, v in seconds.items()}
summary["f32 / bf16 median time"] = round(median["float32"] / median["run"], 3)
a, b = masks["run"], masks["float32"]
summary["binary mask IoU per clip"] = [
    round(temporal.temporal_iou(x, y), 3)
    for x, y in zip(a["binary_mask"], b["binary_mask"])
]
summary["equal binary masks"] = int(
    np.sum(np.all(a["binary_mask"] == b["binary_mask"], axis=1))
)
summary["max |mask bf16 - mask f32|"] = float(
    np.max(np.abs(a["mask"] - b["mask"]))
)
summary["max |OS bf16 - OS f32|"] = float(
    np.max(np.abs(a["original_score"] - b["original_score"]))
)
summary["dtypes"] = sorted({str(v.dtype) for v in a.values()})
summary["load after"] = loadavg()
print(json.dumps(summary, indent=1))
