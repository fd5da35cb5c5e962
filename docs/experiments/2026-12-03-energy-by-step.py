"""Grad-CAM energy and pointing per layer against the training step.

The measurement of docs/experiments/2026-12-03-energy-by-step.md. Run from the
repository root:

    python docs/experiments/2026-12-03-energy-by-step.py i3d 1 250
    python docs/experiments/2026-12-03-energy-by-step.py clstm 1 300

Draws the demo's synthetic dataset (64x64, 1600/200/200 clips) with the
given seed, trains the synthetic config with that seed for the given steps
without early stopping (a checkpoint every 25 steps), then for each
checkpoint from step 75 prints a JSON line: test top-1 and, per layer of
`last_per_resolution` and for the input gradient, `[energy / area share,
pointing game]` on the event frames of the first 48 test clips, as the
demo's faithfulness stage measures them.
"""

import json
import os
import sys

import tensorflow as tf

from configs import clstm_synthetic
from configs import i3d_synthetic
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.interp import layer_sweep
from tfvidinterp.jobs import train
from tfvidinterp.measures import spatial

CONFIGS = {"i3d": i3d_synthetic, "clstm": clstm_synthetic}
SIZE, CLIPS, SPATIAL_CLIPS = 64, (1600, 200, 200), 48


def main(name, seed, steps):
    root = f"runs/energy_by_step/seed_{seed}"
    data = f"{root}/data"
    if not os.path.exists(f"{data}/dataset_info.json"):
        prepare.run(
            "synthetic",
            data,
            num_workers=0,
            source_options=dict(
                num_clips=CLIPS,
                num_frames=16,
                image_size=[SIZE, SIZE],
                seed=seed,
            ),
        )
    config = CONFIGS[name].get_config()
    config.input.data_dir, config.seed = data, seed
    config.train.target_accuracy = 0.0
    config.train.steps_per_epoch = steps
    config.train.max_checkpoints = steps // 25
    workdir = f"{root}/{name}"
    train.run(config, workdir)
    model = train.build_model(config, 6)
    layers = list(layer_sweep.last_per_resolution(model))
    for step in range(75, steps + 1, 25):
        tf.train.Checkpoint(model=model).restore(
            f"{workdir}/ckpt/ckpt-{step}"
        ).expect_partial()
        row = {"model": name, "seed": seed, "step": step}
        row.update(_measure(model, config, layers))
        print(json.dumps(row), flush=True)


def _measure(model, config, layers):
    sweep = layer_sweep.LayerSweep(model, layers)
    dataset = pipeline.from_config(config.input, "test", batch_size=8)
    truths, maps, correct, total = [], {}, 0, 0
    for batch in dataset:
        batch = {k: v.numpy() for k, v in batch.items()}
        logits = model(batch["frames"], training=False).numpy()
        correct += int((logits.argmax(-1) == batch["label"]).sum())
        if total < SPATIAL_CLIPS:
            for layer, value in sweep(batch["frames"]).items():
                maps.setdefault(layer, []).extend(value.numpy())
            truths += [
                {
                    "id": total + i,
                    "ground_truth": {
                        k: batch[k][i] for k in ("event", "boxes", "box_valid")
                    },
                }
                for i in range(len(batch["label"]))
                if batch["has_ground_truth"][i]
            ]
        total += len(batch["label"])
    row = {"test": correct / total}
    for layer, value in maps.items():
        heatmaps = dict(enumerate(value))
        energy = spatial.pooled_energy(truths, heatmaps)
        point = spatial.pooled_pointing_game(
            truths, heatmaps, spatial.default_tolerance(SIZE, SIZE)
        )
        row[layer] = [round(energy["ratio"], 2), round(point["gradcam"], 2)]
    row["centre"] = round(point["centre"], 2)
    return row


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
