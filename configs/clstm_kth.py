r"""The paper's 2-layer C-LSTM trained from scratch on KTH Actions.

Command:
    python -m binaries.train --config=configs/clstm_kth.py \
        --workdir=runs/clstm_kth

Expected (paper, Table 1): F1 0.84; 0.78 on time-reversed clips. Not
reproduced here: KTH cannot be downloaded on the project's machine.
"""

from configs import common


def get_config(arg=None):
    """The experiment config; `arg="smoke"` gives a 2-step CPU run."""
    smoke = arg == "smoke"
    config = common.training_config(
        data_dir="data/kth",
        num_frames=32,
        image_size=(120, 160),
        batch_size=24,
        model_name="clstm",
        model=dict(
            filters=4 if smoke else 32,
            kernel_size=5,
            num_layers=2,
            strides=2,
            dropout=0.5,
            head="last",
            batch_norm="frozen",
            recurrent_activation="sigmoid",
        ),
        train=dict(
            epochs=21,
            optimizer="sgd",
            lr=1e-3,
            momentum=0.2,
            weight_decay=1e-4,
            eval_every_steps=500,
        ),
        smoke=smoke,
        lambda1=0.02,  # The paper's KTH mask weights.
        lambda2=0.04,
    )
    config.eval.split = "test"
    return config
