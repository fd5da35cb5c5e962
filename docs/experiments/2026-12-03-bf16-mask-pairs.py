"""Mask IoU with the ground-truth key frames of two explain results dirs,
paired clip by clip: each dir's mean (the faithfulness job's `mask_iou`
"learned") and the mean difference B - A with its standard error.

    python docs/experiments/2026-12-03-bf16-mask-pairs.py A_DIR B_DIR
"""

import sys

import numpy as np

sys.path.insert(0, ".")
from tfvidinterp.jobs import resultsdir  # noqa: E402
from tfvidinterp.measures import temporal  # noqa: E402


def ious(directory):
    records = resultsdir.load_results(directory)["records"]
    return {
        r["id"]: temporal.temporal_iou(
            r["mask"]["binary_mask"], r["ground_truth"]["event"]
        )
        for r in records
    }


a, b = ious(sys.argv[1]), ious(sys.argv[2])
ids = sorted(set(a) & set(b))
x, y = np.array([a[i] for i in ids]), np.array([b[i] for i in ids])
d = y - x
print(
    f"clips {len(ids)}: A {x.mean():.3f}, B {y.mean():.3f}, "
    f"B - A {d.mean():+.3f} +- {d.std(ddof=1) / np.sqrt(len(d)):.3f} (SE)"
)
