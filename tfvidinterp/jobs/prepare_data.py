"""The job behind `binaries/prepare_data.py`: a source's options by name."""

from tfvidinterp.data import prepare


def run(
    source: str,
    output_dir: str,
    *,
    kth_split: str = "paper",
    synthetic_clips="800,200,200",
    num_frames: int = 16,
    image_size: int = 64,
    seed: int = 0,
    synthetic_background: str = "smooth",
    synthetic_camera: bool = False,
    **options,
) -> dict:
    """Decodes `source` into `output_dir` with `prepare.run`.

    Args:
        source: A `tfvidinterp.data.sources.SOURCES` name.
        output_dir: The dataset directory.
        kth_split: The KTH source's persons per split.
        synthetic_clips: The synthetic source's train, validation and test
            clips ("800,200,200" or a sequence).
        num_frames: Synthetic clip length.
        image_size: Synthetic frame size.
        seed: Synthetic dataset seed.
        synthetic_background: "smooth" or "texture".
        synthetic_camera: Add the synthetic pan classes.
        **options: `prepare.run`'s `root`, `splits`, `num_shards`,
            `short_side`, `max_frames`, `num_workers`.

    Returns:
        What `prepare.run` returns.
    """
    source_options = {
        "synthetic": dict(
            num_clips=synthetic_clips,
            num_frames=num_frames,
            image_size=image_size,
            seed=seed,
            background=synthetic_background,
            camera=synthetic_camera,
        ),
        "kth": dict(subject_split=kth_split),
    }
    return prepare.run(
        source,
        output_dir,
        source_options=source_options.get(source, {}),
        **options,
    )
