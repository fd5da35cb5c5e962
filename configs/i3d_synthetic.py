r"""A small I3D trained on the embedded synthetic dataset (the demo's model).

Command (the data as `binaries.demo` writes it):
    python -m binaries.prepare_data --output_dir=data/synthetic48 \
        --image_size=48 --synthetic_clips=3200,400,400
    python -m binaries.train --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic

48x48 frames, Adam 2e-3 and batch-norm momentum 0.9. Learning switches on
suddenly at a step that varies between runs: one 300-step run had 0.625,
0.97 and 0.985 validation accuracy at steps 100-300, the demo's run of the
same recipe 0.41 at step 125. So it trains up to 400 steps and stops at the
first evaluation with 0.95 validation accuracy. With lr 1e-3 and momentum
0.99 this model had 0.71 after 400 steps, and 32x32 frames leave its small
objects too few pixels (0.48 after 600 steps). Grad-CAM reads
`Mixed_3c` (6x6 cells, 16 steps): `Mixed_4f` has only 3x3 cells at this size,
too coarse for the pointing game (README, "Faithfulness").
Expected: see "Results on the synthetic data" in the README (validation
accuracy, forward and time-reversed, measured on a 2-core CPU).
"""

from configs import common


def get_config(arg=None):
    """The experiment config; `arg="smoke"` gives a 2-step CPU run."""
    smoke = arg == "smoke"
    config = common.training_config(
        data_dir="data/synthetic48",
        num_frames=16,
        image_size=48,
        batch_size=16,
        model_name="i3d",
        model=dict(width=0.125, dropout=0.2, bn_momentum=0.9),
        train=dict(epochs=1, steps_per_epoch=400, optimizer="adam", lr=2e-3,
                   schedule="cosine", warmup_steps=20, log_every_steps=10,
                   checkpoint_every_steps=50, eval_every_steps=100,
                   target_accuracy=0.95),
        smoke=smoke,
    )
    config.interp.layer = "Mixed_3c"
    # The demo's budget (the method: 300); at lr 0.1 a mask logit can still
    # move by ~10, twice the +-5 of its initialisation.
    config.interp.iterations = 5 if smoke else 100
    return config
