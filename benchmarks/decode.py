"""Input clips/s per CPU core: reduced-scale against full JPEG decode.

For each stored short side it writes TFRecords as `prepare_data
--short_side` would (4:3 frames, JPEG quality 95, 4:4:4) of textured
frames (gradients, edges, blurred noise: flat synthetic frames decode
unrealistically fast), then times, in interleaved rounds in one process,
the training pipeline (uniform sampling, random crop) with and without
`reduced_decode` at each output size, and the decode-only floor: parsing,
sampling and decoding the same frames at full size, with no resize or crop.

Per core: every dataset runs on a private thread pool of one thread with
intra-op parallelism 1 (`tf.data.Options().threading`), and a round is
timed in CPU seconds of the whole process (`time.process_time`: the
pipeline's thread, the consumer pulling batches, TF's own threads), so a
rate is clips per CPU-second, which other processes on a shared machine do
not lower the way they lower wall-clock rates.
"""

import os
import time

import cv2
import numpy as np
import tensorflow as tf

from benchmarks import table
from benchmarks import timing
from tfvidinterp.data import pipeline
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops

TARGET_VS_FLOOR = 0.7


def textured_frames(num_frames, height, width, seed=0) -> np.ndarray:
    """`(num_frames, height, width, 3)` uint8 frames: colour gradients, a
    moving disc, a box and blurred noise, so JPEGs carry natural detail."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    noise = rng.normal(0.0, 40.0, (height, width, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
    frames = []
    for t in range(num_frames):
        frame = np.stack(
            [x / width * 200, y / height * 200, (x + y + 4 * t) % 255], -1
        )
        frame += noise
        centre = (int(width * 0.3) + 3 * t, height // 2)
        cv2.circle(frame, centre, height // 6, (250, 30, 30), -1)
        corner = (width // 2 + width // 5, height // 2)
        cv2.rectangle(
            frame, (width // 2, height // 4), corner, (20, 220, 40), -1
        )
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(frames)


def write_records(data_dir, short_side, num_clips, stored_frames):
    """Writes split `train` of `num_clips` 4:3 clips in one shard."""
    os.makedirs(data_dir, exist_ok=True)
    width = round(short_side * 4 / 3)
    path = tfrecord.shard_path(data_dir, "train", 0, 1)
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(num_clips):
            frames = textured_frames(stored_frames, short_side, width, i)
            writer.write(
                tfrecord.encode_example(frames, 0, "a", f"c{i}", stored_frames)
            )


def one_core(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` restricted to one thread (see the module docstring)."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    return dataset.with_options(options)


def decode_floor(data_dir, num_frames, batch_size):
    """The same records' sampled frames, only decoded at full size."""
    records = tf.data.TFRecordDataset(
        tfrecord.shard_path(data_dir, "train", 0, 1)
    )

    def decode(serialized):
        encoded = tfrecord.parse_example(serialized)["frames_encoded"]
        indices = video_ops.sample_indices(tf.shape(encoded)[0], num_frames)
        return tfrecord.decode_frames(tf.gather(encoded, indices))

    dataset = records.repeat().map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def measure(bench, workdir: str) -> dict:
    """Clips/s per core, reduced against full decode, and against the floor.

    Args:
        bench: A `passes.Workbench` (only its config is used).
        workdir: An empty directory for the TFRecords.

    Returns:
        `rows`: per stored side and output size, reduced-scale against full
        decode (context), and against the decode-only floor (target 0.7);
        `context`; `details`: `clips_per_second[side][name]` for names
        `floor`, `full <size>` and `reduced <size>`.
    """
    config = bench.config.decode
    batches = config.clips // config.batch_size
    rows, rates = [], {}
    for side in config.stored_sides:
        data_dir = os.path.join(workdir, f"decode{side}")
        write_records(data_dir, side, config.num_clips, config.stored_frames)
        datasets = _datasets(data_dir, config)
        times = timing.interleaved(
            {name: _pull(batches) for name in datasets},
            config.repeats,
            setups={name: _starter(d) for name, d in datasets.items()},
            clock=time.process_time,
        )
        rates[side] = {
            name: config.clips / timing.median(seconds)
            for name, seconds in times.items()
        }
        rows += _rows(side, rates[side], config)
    context = (
        f"decode: {config.clips} clips per round on one thread, per "
        "CPU-second of the process, "
        f"{config.stored_frames} stored frames per clip"
    )
    return dict(
        rows=rows, context=[context], details=dict(clips_per_second=rates)
    )


def _datasets(data_dir, config):
    floor = decode_floor(data_dir, config.num_frames, config.batch_size)
    datasets = dict(floor=floor)
    for size in config.image_sizes:
        for reduced in (False, True):
            name = f"{'reduced' if reduced else 'full'} {size}"
            datasets[name] = pipeline.make_dataset(
                data_dir,
                "train",
                num_frames=config.num_frames,
                image_size=size,
                batch_size=config.batch_size,
                training=True,
                # The clips fill it: a larger buffer only costs start-up.
                shuffle_buffer=config.num_clips,
                augment=True,
                reduced_decode=reduced,
            )
    return {name: one_core(d) for name, d in datasets.items()}


def _pull(batches):
    return lambda iterator: [next(iterator) for _ in range(batches)]


def _starter(dataset):
    def start():
        iterator = iter(dataset)
        next(iterator)
        return iterator

    return start


def _rows(side, rates, config):
    rows = []
    for size in config.image_sizes:
        shape = f"{config.num_frames}x{size}x{size}"
        reduced, full = rates[f"reduced {size}"], rates[f"full {size}"]
        note = f"stored short side {side}, one core"
        rows.append(
            table.row(
                f"input/core {shape} reduced vs full decode, stored {side}",
                reduced,
                full,
                "clips/s",
                note=note,
            )
        )
        rows.append(
            table.row(
                f"input/core {shape} vs decode-only floor, stored {side}",
                reduced,
                rates["floor"],
                "clips/s",
                TARGET_VS_FLOOR,
                note=note,
            )
        )
    return rows
