r"""A small C-LSTM on the embedded synthetic dataset (the demo's model).

Command (the data as `binaries.demo` writes it):
    python -m binaries.prepare_data --output_dir=data/synthetic \
        --image_size=64 --synthetic_clips=1600,200,200
    python -m binaries.train --config=configs/clstm_synthetic.py \
        --workdir=runs/clstm_synthetic

Expected: it stops at 0.97 validation accuracy after 100-250 steps (20 of
20 seeds, median 175), about a minute on 2 CPU cores; test top-1
0.965-1.00 (20 of 20 seeds), 0.00-0.02 on time-reversed clips. History:
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
        model_name="clstm",
        model=dict(
            filters=4 if smoke else 16,
            kernel_size=5,
            num_layers=2,
            strides=2,
            dropout=0.0,
            head="sequence",
            batch_norm="frozen",
            recurrent_activation="sigmoid",
        ),
        train=dict(
            epochs=1,
            steps_per_epoch=600,
            optimizer="adam",
            lr=2e-3,
            schedule="cosine",
            warmup_steps=20,
            log_every_steps=10,
            checkpoint_every_steps=25,
            eval_every_steps=25,
            target_accuracy=0.97,
        ),
        interp=common.DEMO_MASKS,
        smoke=smoke,
    )
    # The demo's runs are reproducible: the same command, the same weights.
    config.deterministic = True
    return config
