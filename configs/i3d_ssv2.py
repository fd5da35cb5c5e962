r"""I3D (the paper's temporal strides) trained from scratch on SSv2.

Command:
    python -m binaries.prepare_data --source=ssv2 --root=/data/ssv2 \
        --output_dir=data/ssv2 --short_side=224 --max_frames=48
    python -m binaries.train --config=configs/i3d_ssv2.py \
        --workdir=runs/i3d_ssv2 --config.strategy=mirrored

`--short_side=224`, the crop's size: training then decodes and crops with
no resize, 3.3x the clips/s per core of 256 px frames
(docs/experiments/2026-12-03-input-pipeline.md).

Expected (paper, Table 1): top-1 0.43, top-5 0.73; 0.09 / 0.27 on
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
        batch_size=32,
        model_name="i3d",
        model=dict(width=0.125 if smoke else 1.0, dropout=0.5),
        train=dict(
            epochs=13,
            optimizer="adam",
            lr=1e-3,
            schedule="cosine",
            warmup_steps=1000,
            checkpoint_every_steps=1000,
            eval_every_steps=5000,
            # bfloat16 where a CPU-only machine computes it in hardware:
            # the full I3D's train step 1.6-1.8x faster, steps to target
            # within the seeds' spread (docs/experiments/2026-12-03-bf16.md).
            # --config.train.mixed_precision="" turns it off.
            mixed_precision="" if smoke else "auto",
        ),
        smoke=smoke,
    )
    # SSv2's labelled validation set is the test set (test labels are not
    # public); `prepare_data` writes it as the `test` split.
    config.eval.split = "test"
    return config
