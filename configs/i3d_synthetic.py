r"""A small I3D trained on the embedded synthetic dataset (the demo's model).

Command:
    python -m binaries.prepare_data --source=synthetic \
        --output_dir=data/synthetic
    python -m binaries.train --config=configs/i3d_synthetic.py \
        --workdir=runs/i3d_synthetic

Expected: see "Results on the synthetic data" in the README (validation
accuracy, forward and time-reversed, measured on a 2-core CPU).
"""

from configs import common


def get_config(arg=None):
    """The experiment config; `arg="smoke"` gives a 2-step CPU run."""
    smoke = arg == "smoke"
    return common.training_config(
        data_dir="data/synthetic",
        num_frames=16,
        image_size=64,
        batch_size=16,
        model_name="i3d",
        model=dict(width=0.125, dropout=0.2),
        train=dict(epochs=16, optimizer="adam", lr=1e-3, schedule="cosine",
                   warmup_steps=20, log_every_steps=10,
                   checkpoint_every_steps=50, eval_every_steps=200),
        smoke=smoke,
    )
