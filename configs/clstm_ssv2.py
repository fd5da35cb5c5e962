r"""The paper's 3-layer C-LSTM trained from scratch on SSv2.

Command:
    python -m binaries.train --config=configs/clstm_ssv2.py \
        --workdir=runs/clstm_ssv2 --config.strategy=mirrored

Expected (paper, Table 1): top-1 0.23, top-5 0.48; 0.05 / 0.17 on
time-reversed clips. Not reproduced here: SSv2 cannot be downloaded on the
project's machine.
"""

from configs import common


def get_config(arg=None):
    """The experiment config; `arg="smoke"` gives a 2-step CPU run."""
    smoke = arg == "smoke"
    config = common.training_config(
        data_dir="data/ssv2",
        num_frames=16,
        image_size=224,
        batch_size=16,
        model_name="clstm",
        model=dict(
            filters=4 if smoke else 32,
            kernel_size=5,
            num_layers=3,
            strides=2,
            dropout=0.0,
            head="sequence",
            batch_norm="frozen",
            recurrent_activation="sigmoid",
        ),
        train=dict(
            epochs=105,
            optimizer="sgd",
            lr=1e-3,
            momentum=0.2,
            checkpoint_every_steps=1000,
            eval_every_steps=10000,
        ),
        smoke=smoke,
        smoke_size=64,  # Three stride-2 layers with 2x2 pooling need 64 px.
    )
    # SSv2's labelled validation set is the test set (test labels are not
    # public); `prepare_data` writes it as the `test` split.
    config.eval.split = "test"
    return config
