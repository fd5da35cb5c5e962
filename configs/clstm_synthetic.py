r"""A small C-LSTM trained on the embedded synthetic dataset (the demo's model).

Command:
    python -m binaries.train --config=configs/clstm_synthetic.py \
        --workdir=runs/clstm_synthetic

Adam instead of the paper's SGD. Expected: see "Results on the synthetic data"
in the README: this configuration does NOT yet reach the 90 % target.
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
        model_name="clstm",
        model=dict(filters=4 if smoke else 16, kernel_size=5, num_layers=2,
                   strides=2, dropout=0.0, head="sequence",
                   batch_norm="frozen", recurrent_activation="sigmoid"),
        train=dict(epochs=8, optimizer="adam", lr=1e-3, schedule="cosine",
                   warmup_steps=20, log_every_steps=10,
                   checkpoint_every_steps=50, eval_every_steps=100),
        smoke=smoke,
    )
