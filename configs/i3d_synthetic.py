r"""A small I3D trained on the embedded synthetic dataset (the demo's model).

Command (the data as `binaries.demo` writes it):
    python -m binaries.prepare_data --output_dir=data/synthetic \
        --image_size=64 --synthetic_clips=1600,200,200
    python -m binaries.train --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic

64x64 frames, width 0.125, batch-norm momentum 0.9, a constant Adam rate of
2e-3; it stops at the first evaluation (every 25 steps) with 0.95
validation accuracy, at most 300 steps. Grad-CAM reads `Mixed_3c`, the
deepest layer with 8x8 cells at this size (`Mixed_4f` has 4x4, the paper's
`Mixed_5c` 2x2). Reliability over seeds and the layer sweep:
docs/experiments/2026-12-03-synthetic-redesign.md.
"""

from configs import common


def get_config(arg=None):
    """The experiment config; `arg="smoke"` gives a 2-step CPU run."""
    smoke = arg == "smoke"
    config = common.training_config(
        data_dir="data/synthetic",
        num_frames=16,
        image_size=64,
        batch_size=16,
        model_name="i3d",
        model=dict(width=0.125, dropout=0.2, bn_momentum=0.9),
        train=dict(epochs=1, steps_per_epoch=300, optimizer="adam", lr=2e-3,
                   schedule="constant", log_every_steps=10,
                   checkpoint_every_steps=25, eval_every_steps=25,
                   target_accuracy=0.95),
        interp=dict(common.DEMO_MASKS, layer="Mixed_3c"),
        smoke=smoke,
    )
    # The demo's runs are reproducible: the same command, the same weights.
    config.deterministic = True
    return config
