"""The capacity table of docs/experiments/2026-12-03-input-pipeline.md.

Run from the repository root, with the JSON of the `decode` benchmark:

    python docs/experiments/2026-12-03-input-pipeline.py runs/decode.json

Counts the training FLOPs per clip of the paper's I3D and C-LSTM (the SSv2
configs' models at 16x224x224, 174 classes) and prints, for GPUs of 100,
400 and 1000 TFLOP/s at 40 % utilisation, the clips/s they train and the
CPU cores the input pipeline needs at the measured per-core rates.
"""

import json
import sys

from benchmarks import capacity
from configs import clstm_ssv2
from configs import i3d_ssv2
from tfvidinterp import models

PEAKS = (100e12, 400e12, 1000e12)
UTILISATION = 0.4


def main(path):
    with open(path) as f:
        rates = json.load(f)["details"]["decode"]["clips_per_second"]
    per_core = {
        f"{name}, stored {side}": rate
        for side, by_name in rates.items()
        for name, rate in by_name.items()
        if name.endswith(str(capacity.IMAGE_SIZE))
    }
    print(
        "| model | GFLOP/clip (train) | TFLOP/s | clips/s | "
        + " | ".join(
            f"cores ({name}: {rate:.1f}/core)"
            for name, rate in per_core.items()
        )
        + " |"
    )
    for config in (i3d_ssv2.get_config(), clstm_ssv2.get_config()):
        model = models.build(
            config.model_name,
            num_classes=capacity.NUM_CLASSES,
            num_frames=capacity.NUM_FRAMES,
            image_size=capacity.IMAGE_SIZE,
            **config.model,
        )
        flops = capacity.train_flops_per_clip(model)
        for peak in PEAKS:
            rows = [
                capacity.capacity(flops, peak, UTILISATION, rate)
                for rate in per_core.values()
            ]
            cores = " | ".join(str(row["cores"]) for row in rows)
            print(
                f"| {config.model_name} | {flops / 1e9:.1f} | {peak / 1e12:.0f}"
                f" | {rows[0]['clips_per_second']:.0f} | {cores} |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
