"""Temporal masks of one trained run, optimised in float32 and in bfloat16.

The run's model (float32 variables, whatever precision it was trained in) is
built twice, under float32 and under mixed_bfloat16 with the same weights;
`explain.run` optimises the masks of the first CLIPS test clips with the
run's `interp` options under each, and the faithfulness job's mask IoU
(`measures.temporal.pooled_mask_iou`, with the ground-truth key frames) is
printed for each, with how far the two sets of masks are apart.

Run from the repository root:
    flock /tmp/tfvidinterp_bench.lock nice -n 5 python \
        docs/experiments/2026-12-03-bf16-masks.py RUN_DIR OUT_DIR CLIPS
"""

import json
import os
import sys

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
from tfvidinterp.jobs import explain  # noqa: E402, I001

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfvidinterp.jobs import resultsdir  # noqa: E402
from tfvidinterp.jobs import train  # noqa: E402
from tfvidinterp.measures import temporal  # noqa: E402

workdir, out, clips = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = train.run_config(None, workdir)
restored = train.restore(config, workdir)
models = {"float32": restored.model}
keras.mixed_precision.set_global_policy("mixed_bfloat16")
models["mixed_bfloat16"] = train.build_model(config, len(restored.classes))
keras.mixed_precision.set_global_policy("float32")
models["mixed_bfloat16"].set_weights(restored.model.get_weights())

records, summary = {}, {"run": workdir, "step": restored.step, "clips": clips}
for tag, model in models.items():
    explainer = explain.Explainer(
        model, config.interp, restored.step, classes=restored.classes
    )
    directory = os.path.join(out, tag)
    explain.run(
        config,
        workdir,
        split="test",
        output_dir=directory,
        max_clips=clips,
        explainer=explainer,
    )
    loaded = resultsdir.load_results(directory)["records"]
    records[tag] = {r["id"]: r for r in loaded}
    summary[f"mask_iou {tag}"] = temporal.pooled_mask_iou(loaded)
ids = sorted(records["float32"])
pairs = [(records["float32"][i], records["mixed_bfloat16"][i]) for i in ids]
summary["max |mask f32 - mask bf16|"] = max(
    float(np.max(np.abs(np.subtract(a["mask"]["mask"], b["mask"]["mask"]))))
    for a, b in pairs
)
summary["mean IoU of f32 and bf16 binary masks"] = float(
    np.mean(
        [
            temporal.temporal_iou(
                a["mask"]["binary_mask"], b["mask"]["binary_mask"]
            )
            for a, b in pairs
        ]
    )
)
summary["equal binary masks"] = sum(
    a["mask"]["binary_mask"] == b["mask"]["binary_mask"] for a, b in pairs
)
print(json.dumps(summary, indent=1))
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
