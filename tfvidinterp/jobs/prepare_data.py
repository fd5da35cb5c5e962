"""The job behind `binaries/prepare_data.py`: a source's options by name."""

from tfvidinterp import errors
from tfvidinterp.data import prepare
from tfvidinterp.data import sources


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
    validation_fraction: float = sources.VALIDATION_FRACTION,
    test_fraction: float = sources.TEST_FRACTION,
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
        validation_fraction: The folder source's share of validation videos
            when it has no split folders or column (hashed by path).
        test_fraction: Its share of test videos, likewise.
        **options: `prepare.run`'s `root`, `splits`, `num_shards`,
            `short_side`, `max_frames`, `num_workers`.

    Returns:
        What `prepare.run` returns.

    Raises:
        errors.InputError: Fractions for a source other than `folder`, or
            what `prepare.run` raises.
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
        "folder": _folder_options(source, validation_fraction, test_fraction),
    }
    return prepare.run(
        source,
        output_dir,
        source_options=source_options.get(source, {}),
        **options,
    )


def _folder_options(source, validation_fraction, test_fraction):
    """The folder source's options: the fractions unlike its defaults.

    The options are stored and compared on a re-run: leaving the defaults
    out lets a directory prepared before they were options resume.
    """
    options = {}
    if validation_fraction != sources.VALIDATION_FRACTION:
        options["validation_fraction"] = validation_fraction
    if test_fraction != sources.TEST_FRACTION:
        options["test_fraction"] = test_fraction
    if options and source != "folder":
        raise errors.InputError(
            "validation_fraction and test_fraction are options of the folder "
            f"source only, not of {source}"
        )
    return options
