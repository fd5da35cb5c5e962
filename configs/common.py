"""The fields every training config shares, and what `:smoke` changes.

Each experiment file states its own dataset, model and optimiser and calls
`training_config`; everything a run reads is then visible in the resolved
`config.json` of its workdir.
"""

import ml_collections

# The synthetic configs' mask budget, for the demo's time (the method: 300
# steps at 0.1). 50 steps at the reference code's 0.2 still let a mask logit
# move by ~10, twice the +-5 of its initialisation, in half the time of 100
# at 0.1; on 16 test clips the final mask loss was 1-2 % higher and the mask
# IoU within noise (docs/experiments/2026-11-24-first-synthetic-dataset.md).
DEMO_MASKS = dict(iterations=50, learning_rate=0.2)


def training_config(
    *,
    data_dir,
    num_frames,
    image_size,
    batch_size,
    model_name,
    model,
    train,
    interp=None,
    smoke=False,
    smoke_size=32,
    lambda1=0.01,
    lambda2=0.02,
):
    """Returns a locked-ready training `ConfigDict`.

    Args:
        data_dir: Directory written by `binaries.prepare_data`.
        num_frames: Frames per clip, sampled to cover the clip.
        image_size: Square side or (height, width) of the model input.
        batch_size: GLOBAL batch size, split across replicas.
        model_name: A key of `tfvidinterp.models.MODELS`, or your own
            model's import path `"module:function"`.
        model: Keyword arguments of that model's `build` (without
            `num_classes`, `num_frames` and `image_size`, which come from the
            dataset and `input`).
        train: Overrides of the `train` fields below (optimizer, lr, ...).
        interp: Overrides of the `interp` fields below; `:smoke` still cuts
            the mask iterations.
        smoke: A few-second CPU run: 2 steps of a tiny model on tiny clips.
        smoke_size: Frame side of the smoke run (deep models need more).
        lambda1: Temporal-mask L1 weight (the paper: 0.01 SSv2, 0.02 KTH).
        lambda2: Temporal-mask smoothness weight (0.02 SSv2, 0.04 KTH).
    """
    if smoke:
        num_frames, batch_size = 8, 4
        # Keeps the type (and KTH's 3:4 aspect) so overrides still apply.
        image_size = (
            smoke_size
            if isinstance(image_size, int)
            else (smoke_size * 3 // 4, smoke_size)
        )
    config = ml_collections.ConfigDict()
    config.seed = 0  # Weights, dropout and the training data's order.
    # TensorFlow's op determinism: the same run twice on the same machine
    # gives the same weights (tf.data and every op then run deterministically).
    config.deterministic = False
    config.strategy = "default"  # default|one_device|mirrored|multi_worker...
    config.input = dict(
        data_dir=data_dir,
        num_frames=num_frames,
        image_size=image_size,
        batch_size=batch_size,  # Global batch, split across replicas.
        shuffle_buffer=8 if smoke else 512,
        sampling="uniform",  # "segment": one random frame per segment.
        augment=False,  # Random crop of the resized clip.
        flip=False,  # Never for SSv2: left/right classes would swap.
    )
    config.model_name = model_name
    config.model = dict(model)
    config.train = _train(train, smoke)
    config.eval = dict(split="validation", batch_size=batch_size)
    config.interp = _interp(lambda1, lambda2, interp, smoke)
    return config


def _train(overrides, smoke):
    """The `train` fields: the optimiser, schedule and logging steps."""
    train = dict(
        epochs=1,
        steps_per_epoch=0,  # 0: one pass over the training split.
        optimizer="adam",
        lr=1e-3,
        momentum=0.0,
        weight_decay=0.0,  # Decoupled (AdamW-style), as Keras 3 applies it.
        schedule="constant",  # or "cosine" (with warmup_steps).
        warmup_steps=0,
        log_every_steps=10,
        checkpoint_every_steps=200,
        eval_every_steps=1000,
        max_checkpoints=3,
        # Stop once an evaluation reaches this accuracy (0: off), rather
        # than train a fixed budget (the synthetic configs).
        target_accuracy=0.0,
        # "" (float32), "mixed_bfloat16", "mixed_float16", or "auto":
        # mixed_bfloat16 on a CPU-only machine with AVX-512 BF16 or AMX,
        # else float32 (tfvidinterp.precision).
        mixed_precision="",
        jit_compile=False,  # XLA; worth it on GPUs.
        # Warm start of a new run (ignored on resume): a run's checkpoint
        # (<workdir>/ckpt or ckpt/ckpt-N), a .weights.h5 file or the
        # kinetics-i3d release's model.ckpt; another class count loads all
        # but the head (tfvidinterp.models.weights.warm_start).
        init_weights="",
    )
    train.update(overrides)
    if smoke:
        train.update(
            epochs=1,
            steps_per_epoch=2,
            log_every_steps=1,
            checkpoint_every_steps=1,
            eval_every_steps=2,
            warmup_steps=0,
        )
    return train


def _interp(lambda1, lambda2, overrides, smoke):
    """`binaries.explain`'s Grad-CAM and temporal masks (docs/design.md)."""
    interp = dict(
        split="",  # "": the eval split.
        batch_size=8,  # Clips explained at once.
        target="predicted",  # Class explained: "predicted" or "true".
        layer="",  # "": Mixed_5c (I3D), the last ConvLSTM2D (C-LSTM).
        weighting="time",  # Grad-CAM weights per time step, or "clip".
        score="logit",  # Or "probability" (the reference I3D code).
        upsample="linear",  # Time up-sampling; "nearest" repeats blocks.
        normalize="clip",  # Min-max over the clip, or per "frame".
        perturbation="freeze",  # The one the mask is optimised for.
        lambda1=lambda1,
        lambda2=lambda2,
        beta=3.0,
        iterations=300,  # Adam steps per mask.
        learning_rate=0.1,  # Paper table 0.001, reference code 0.2.
        init="central",  # Or "constant".
        early_stopping=False,
    )
    interp.update(overrides or {})
    if smoke:
        interp.update(batch_size=2, iterations=5)
    return interp
