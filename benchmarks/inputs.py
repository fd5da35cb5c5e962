"""Input speed: the tf.data pipeline against PyAV decoding and a train step.

The benchmark makes its own data: synthetic clips, up-scaled to the stored
short side, encoded as video files with PyAV into class folders, then
written as TFRecords by the real `prepare` path (the `folder` source). Both
readers deliver the same clips: `num_frames` frames spread over the video,
short side resized to `image_size`, centre-cropped square.
"""

import os

import numpy as np

from benchmarks import table
from benchmarks import timing
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.data import synthetic
from tfvidinterp.data import video_io

TARGET_VS_TRAINING = 3.0


def make_videos(root, count, num_frames, short_side, extension, seed=0):
    """Encodes `count` synthetic clips as `<root>/<class>/<id><extension>`.

    Args:
        root: Output directory.
        count: Number of videos; classes cycle through `synthetic.CLASSES`.
        num_frames: Frames per video.
        short_side: Frame side of the videos (clips are generated at 64 px
            and up-scaled, as real videos are larger than model inputs).
        extension: Container, e.g. ".webm" (VP9) or ".mp4" (H.264).
        seed: Seed of the first clip.

    Returns:
        The video paths.
    """
    paths = []
    for i in range(count):
        label = i % len(synthetic.CLASSES)
        clip = synthetic.generate_clip(seed + i, label, num_frames, 64)
        folder = os.path.join(root, synthetic.CLASSES[label])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"clip{i:04d}{extension}")
        frames = video_io.resize_short_side(clip.frames, short_side)
        video_io.encode(path, frames)
        paths.append(path)
    return paths


def read_with_pyav(path: str, num_frames: int, image_size: int) -> np.ndarray:
    """Decodes a video with PyAV and resizes and crops it as the pipeline.

    Returns:
        `(num_frames, image_size, image_size, 3)` float32 in [0, 255].
    """
    frames = video_io.decode(path, max_frames=num_frames)
    frames = video_io.resize_short_side(frames, image_size)
    top = (frames.shape[1] - image_size) // 2
    left = (frames.shape[2] - image_size) // 2
    crop = frames[:, top : top + image_size, left : left + image_size]
    return crop.astype(np.float32)


def measure(bench, workdir: str) -> dict:
    """Clips/s of the pipeline, of PyAV, and of the consuming train step.

    Each round times `batches` batches from a fresh pipeline iterator (one
    batch is read untimed first, so the round measures the steady rate and
    the iterator's read-ahead is neither counted nor left running during the
    other timings), PyAV on as many clips, and one train step of
    `config.inputs.model` at `config.training.batch_size`.

    Args:
        bench: A `passes.Workbench`.
        workdir: An empty directory for the videos and the TFRecords.

    Returns:
        `rows` (pipeline against PyAV; against the train step, target 3),
        `context` and `details`: `pipeline_clips_per_second`,
        `pyav_clips_per_second`, `train_clips_per_second`,
        `make_videos_seconds`, `prepare_seconds`, `num_videos`.
    """
    config = bench.config.inputs
    videos, data_dir = (os.path.join(workdir, d) for d in ("videos", "data"))
    paths, make_seconds = timing.once(
        lambda: make_videos(
            videos,
            config.num_videos,
            config.num_frames,
            config.short_side,
            config.extension,
            bench.config.seed,
        )
    )
    _, prepare_seconds = timing.once(
        lambda: prepare.run(
            "folder",
            data_dir,
            root=videos,
            num_shards=min(8, len(paths)),
            num_workers=0,
            source_options=dict(test_fraction=0.0),
        )
    )
    clips = config.batches * config.batch_size
    batch = bench.config.training.batch_size
    step = bench.train_step(config.model)
    frames, labels = bench.videos(batch), bench.labels(batch)
    times = timing.interleaved(
        dict(
            pipeline=lambda iterator: [
                next(iterator)["frames"] for _ in range(config.batches)
            ],
            pyav=lambda: [
                read_with_pyav(
                    paths[i % len(paths)], config.num_frames, config.image_size
                )
                for i in range(clips)
            ],
            train=lambda: float(step(frames, labels)),
        ),
        bench.config.repeats,
        setups=dict(pipeline=lambda: _started(data_dir, config)),
    )
    rates = dict(
        pipeline_clips_per_second=clips / timing.median(times["pipeline"]),
        pyav_clips_per_second=clips / timing.median(times["pyav"]),
        train_clips_per_second=batch / timing.median(times["train"]),
    )
    size = f"{config.num_frames}x{config.image_size}x{config.image_size}"
    rows = [
        table.row(
            f"input tf.data {size} vs PyAV decode",
            rates["pipeline_clips_per_second"],
            rates["pyav_clips_per_second"],
            "clips/s",
            note=f"{config.extension} videos, short side {config.short_side}",
        ),
        table.row(
            f"input tf.data vs {config.model} train step b={batch}",
            rates["pipeline_clips_per_second"],
            rates["train_clips_per_second"],
            "clips/s",
            TARGET_VS_TRAINING,
        ),
    ]
    context = (
        f"input: {len(paths)} videos encoded in {make_seconds:.3g} s, "
        f"prepared as TFRecords in {prepare_seconds:.3g} s"
    )
    details = dict(
        rates,
        make_videos_seconds=make_seconds,
        prepare_seconds=prepare_seconds,
        num_videos=len(paths),
    )
    return dict(rows=rows, context=[context], details=details)


def _started(data_dir, config):
    """A fresh iterator over the split, past its first (start-up) batch."""
    iterator = iter(
        pipeline.make_dataset(
            data_dir,
            "train",
            num_frames=config.num_frames,
            image_size=config.image_size,
            batch_size=config.batch_size,
            training=True,
        )
    )
    next(iterator)
    return iterator
