"""Input speed: the tf.data pipeline against PyAV decoding and a train step.

The benchmark makes its own data: synthetic clips, up-scaled to the stored
short side, encoded as video files with PyAV into class folders, then
written as TFRecords by the real `prepare` path (the `folder` source). Both
readers deliver the same clips: `num_frames` frames spread over the video,
short side resized to `image_size`, centre-cropped square.

It also measures how the peak memory of `video_io.decode` grows with a
video's length (`measure_decode_memory`).
"""

import os
import subprocess
import sys

import av
import numpy as np

from benchmarks import table
from benchmarks import timing
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.data import synthetic
from tfvidinterp.data import video_io

TARGET_VS_TRAINING = 3.0
# Decode memory against length: 640x480 videos this many minutes long, at a
# frame rate low enough to make and decode them in seconds.
MEMORY_MINUTES = (1, 10)
MEMORY_FPS = 1
MEMORY_SIZE = (480, 640)
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run in a fresh process: prints by how many bytes `video_io.decode(path,
# max_frames, short_side)` raises the resident memory's peak above the
# memory in use before it. Linux resets the peak on writing 5 to clear_refs,
# so that the imports' own peak is not counted; elsewhere only Python's
# allocations (tracemalloc), which include the frames, are.
_PEAK_SCRIPT = """
import sys
import tracemalloc
from tfvidinterp.data import video_io

def status(key):
    with open("/proc/self/status") as f:
        lines = [line.split() for line in f]
    return next(int(line[1]) * 1024 for line in lines if line[0] == key)

try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS:")
except OSError:
    before = None
    tracemalloc.start()
video_io.decode(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
if before is None:
    print(tracemalloc.get_traced_memory()[1])
else:
    print(status("VmHWM:") - before)
"""


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


def write_long_video(path, seconds, fps=MEMORY_FPS, size=MEMORY_SIZE):
    """Encodes an MPEG-4 AVI of a bar moving over grey, frame by frame.

    Unlike `video_io.encode`, it never holds the whole video: ten minutes
    at 640x480 are 550 MB of frames even at 1 frame/s.

    Args:
        path: Output `.avi` file.
        seconds: Duration.
        fps: Frame rate.
        size: `(height, width)`.
    """
    height, width = size
    with av.open(path, "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for index in range(round(seconds * fps)):
            frame = np.full((height, width, 3), 96, np.uint8)
            left = 16 * index % width
            frame[:, left : left + 32] = 255
            image = av.VideoFrame.from_ndarray(frame, format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())


def decode_peak_bytes(path: str, max_frames: int, short_side: int) -> int:
    """The peak memory `video_io.decode` adds, in a fresh process.

    Returns:
        Bytes by which decoding raised the peak resident memory over what
        the process used before (see `_PEAK_SCRIPT`).
    """
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, path, str(max_frames)]
        + [str(short_side)],
        cwd=_REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.split()[-1])


def measure_decode_memory(
    workdir, max_frames, short_side, minutes=MEMORY_MINUTES, fps=MEMORY_FPS
):
    """Peak decode memory of a long video against a short one.

    Memory that stays flat as videos grow gives a ratio near 1; holding
    every frame would give the ratio of the lengths.

    Args:
        workdir: A directory for the videos.
        max_frames: `decode`'s frame cap, as `prepare_data` uses it.
        short_side: `decode`'s resize.
        minutes: `(short, long)` durations.
        fps: Their frame rate.

    Returns:
        `(row, details)`: the row compares the long video's peak (measured)
        with the short one's (baseline), in bytes; `details` holds
        `minutes`, `fps`, `size` and `peak_bytes`.
    """
    peaks = []
    for length in minutes:
        path = os.path.join(workdir, f"long_{length}min.avi")
        write_long_video(path, 60 * length, fps)
        peaks.append(decode_peak_bytes(path, max_frames, short_side))
        os.remove(path)
    height, width = MEMORY_SIZE
    row = table.row(
        f"decode peak memory {minutes[1]} min vs {minutes[0]} min",
        peaks[1],
        peaks[0],
        "B",
        note=(
            f"{width}x{height} MPEG-4 at {fps} fps, max_frames={max_frames}, "
            f"short side {short_side}; flat memory: ratio ~1"
        ),
    )
    details = dict(minutes=list(minutes), fps=fps, size=list(MEMORY_SIZE))
    return row, dict(details, peak_bytes=peaks)


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

    Then it measures decode memory against video length
    (`measure_decode_memory`).

    Returns:
        `rows` (pipeline against PyAV; against the train step, target 3;
        decode memory, 10 against 1 minute), `context` and `details`:
        `pipeline_clips_per_second`, `pyav_clips_per_second`,
        `train_clips_per_second`, `make_videos_seconds`, `prepare_seconds`,
        `num_videos`, `decode_memory`.
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
    memory_row, memory = measure_decode_memory(
        workdir, config.num_frames, config.short_side
    )
    rows.append(memory_row)
    context = (
        f"input: {len(paths)} videos encoded in {make_seconds:.3g} s, "
        f"prepared as TFRecords in {prepare_seconds:.3g} s"
    )
    details = dict(
        rates,
        make_videos_seconds=make_seconds,
        prepare_seconds=prepare_seconds,
        num_videos=len(paths),
        decode_memory=memory,
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
