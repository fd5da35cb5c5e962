r"""A small I3D trained on the embedded synthetic dataset (the demo's model).

Command (the data as `binaries.demo` writes it):
    python -m binaries.prepare_data --output_dir=data/synthetic48 \
        --image_size=48 --synthetic_clips=3200,200,400
    python -m binaries.train --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic

48x48 frames, width 0.125, batch-norm momentum 0.9 and a constant Adam
learning rate of 2e-3. Learning switches on suddenly, at a step that varies
between runs. With a cosine schedule over the 400 steps it reached 0.95
validation accuracy by step 300 in 3 of 6 runs; in the others the rate had
decayed by the time it switched on (to 15 % of its peak at step 300), and
they ended at 0.47-0.88 (0.47: every pan right, the objects' motions at
chance). With the constant rate five of six runs stopped, at steps
200-350; the sixth stalled at 0.47 (README, demo run G). Width 0.25 stopped at 200 twice but was at 0.92 at step
350 in a third run, for a step 1.6 times as long. So it trains up to 400
steps and stops at the first evaluation, every 50 steps, with 0.95
validation accuracy. With lr 1e-3 and momentum 0.99 this model had 0.71
after 400 steps, and 32x32 frames leave its small objects too few pixels
(0.48 after 600 steps). Grad-CAM reads
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
