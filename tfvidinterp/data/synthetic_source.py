"""The `synthetic` source: generated clips of moving shapes
(`tfvidinterp.data.synthetic`), with learnable labels and ground truth."""

import numpy as np

from tfvidinterp import errors
from tfvidinterp.data import listing
from tfvidinterp.data import synthetic


def _synthetic_counts(num_clips):
    values = num_clips.split(",") if isinstance(num_clips, str) else num_clips
    try:
        counts = tuple(int(count) for count in values)
    except (TypeError, ValueError):
        counts = ()
    if len(counts) != 3 or min(counts) < 0:
        raise errors.InputError(
            "Synthetic clip counts must be three integers >= 0 (train, "
            f"validation, test), got {num_clips!r}"
        )
    return dict(zip(listing.SPLITS, counts))


def describe(
    root=None,
    num_clips=(800, 200, 200),
    num_frames=16,
    image_size=64,
    seed=0,
    background="smooth",
    camera=False,
):
    if root is not None:
        raise errors.InputError("The synthetic source takes no root")
    if background not in synthetic.BACKGROUNDS:
        raise errors.InputError(
            f"Unknown synthetic background {background!r}; one of "
            f"{', '.join(synthetic.BACKGROUNDS)}"
        )
    counts = _synthetic_counts(num_clips)
    splits = tuple(split for split in listing.SPLITS if counts[split])
    generated = ", ".join(f"{split} {counts[split]:,}" for split in splits)
    layout = (f"videos: generated, {generated}",)
    return listing.Description(synthetic.class_names(camera), splits, layout)


def items(
    root,
    split,
    num_clips=(800, 200, 200),
    num_frames=16,
    image_size=64,
    seed=0,
    background="smooth",
    camera=False,
):
    """Yields balanced labels; clip seeds hash (seed, split, index)."""
    del root  # Checked by describe.
    classes = synthetic.class_names(camera)
    for index in range(_synthetic_counts(num_clips)[split]):
        # Distinct 64-bit seeds keep the splits from sharing clips.
        entropy = [seed, listing.SPLITS.index(split), index]
        clip_seed = np.random.SeedSequence(entropy).generate_state(1, np.uint64)
        label = index % len(classes)
        yield listing.VideoItem(
            id=f"synthetic-{split}-{index:06d}",
            label=label,
            label_text=classes[label],
            path=None,
            metadata=dict(
                seed=int(clip_seed[0]),
                num_frames=num_frames,
                image_size=image_size,
                background=background,
                camera=bool(camera),
            ),
        )
