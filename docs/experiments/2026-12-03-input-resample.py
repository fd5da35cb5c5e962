"""The crop resample of the reduced-scale decode: triangle against bilinear.

Run from the repository root (CPU timing under the shared lock):

    flock /tmp/tfvidinterp_bench.lock nice -n 5 \\
        python docs/experiments/2026-12-03-input-resample.py

Prints, first, the pixel error of the reduced-scale path (reduced decode,
`video_ops.resize_and_crop`) against the reference (full decode,
`resize_short_side`, i.e. `tf.image.resize(antialias=True)`, crop), in
levels of 255 on 16 textured 4:3 frames, centre and off-centre crops, for
the antialiased triangle resample it replaced ("triangle") and the current
one ("bilinear"). Then clips per CPU-second per core of the training
pipeline at 16 frames, as `benchmarks/decode.py` times them (one thread,
interleaved rounds, CPU seconds), side by side in one process: the
decode-only floor, the full-decode reference, and the reduced-scale
pipeline with the triangle resample, with bilinear on the crop only
(`crop_and_resize`; each swapped in for `resize_and_crop` while its
dataset is built) and with the current `resize_and_crop`.
"""

import tempfile
import time

import numpy as np
import tensorflow as tf

from benchmarks import decode
from benchmarks import timing
from tfvidinterp.data import pipeline
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops

ERROR_CASES = ((256, 224), (320, 224), (256, 112), (320, 112), (256, 56))
SPEED_SIDES = (256, 320)
SPEED_SIZES = (224, 112)
CLIPS, BATCH, ROUNDS = 48, 4, 7
CURRENT = video_ops.resize_and_crop


def only(resample):
    """`resize_and_crop` with `resample` at every scale but 1."""

    def resize_and_crop(video, new_size, offset, size, extent=None):
        if extent is None:
            extent = tf.cast(tf.shape(video)[1:3], tf.float32)
        return tf.cond(
            tf.reduce_all(tf.cast(new_size, tf.float32) == extent),
            lambda: tf.cast(video_ops.crop(video, offset, size), tf.float32),
            lambda: resample(video, new_size, offset, size, extent),
        )

    return resize_and_crop


# As it was: the antialiased triangle filter.
TRIANGLE = only(video_ops._triangle_crop)
# Bilinear on the crop's pixels only, where `CURRENT` resizes whole frames.
CROP_AND_RESIZE = only(video_ops._crop_and_resize)


def pixel_errors(side, size, resample):
    """Mean and 99th percentile |reduced - reference| over two crops."""
    frames = decode.textured_frames(16, side, round(side * 4 / 3))
    jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
    new_size = video_ops.resized_size(tf.shape(frames)[1:3], size)
    centre = video_ops.center_crop_offset(new_size, size)
    reference = video_ops.resize_short_side(tfrecord.decode_frames(jpegs), size)
    reduced, extent = tfrecord.decode_frames_covering(jpegs, new_size)
    errors = []
    for offset in (centre, centre // 3):
        crop = resample(reduced, new_size, offset, size, extent)
        errors.append(np.abs(crop - video_ops.crop(reference, offset, size)))
    errors = np.concatenate(errors)
    return float(np.mean(errors)), float(np.percentile(errors, 99))


def op_costs(side, size):
    """CPU ms per clip of 16 frames of the ops alone, on one core.

    Each op runs in a one-thread dataset (`decode.one_core`) repeating one
    clip of JPEGs, timed in interleaved rounds: the full decode (the
    floor's work), `decode_and_crop_jpeg` of the stored columns the centre
    crop's bilinear samples read, and the full decode followed by each
    crop resample at r = 1.
    """
    frames = decode.textured_frames(16, side, round(side * 4 / 3))
    jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
    new_size = video_ops.resized_size(tf.shape(frames)[1:3], size)
    offset = video_ops.center_crop_offset(new_size, size)
    extent = tf.cast(tf.shape(frames)[1:3], tf.float32)
    scale = float(new_size[1]) / frames.shape[2]
    first = int(np.floor((float(offset[1]) + 0.5) / scale - 0.5))
    last = int(np.ceil((float(offset[1]) + size - 0.5) / scale - 0.5))
    window = [0, first, frames.shape[1], last - first + 1]

    def window_decode(jpegs):
        return tf.map_fn(
            lambda jpeg: tf.io.decode_and_crop_jpeg(jpeg, window, channels=3),
            jpegs,
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
        )

    ops = {
        "decode": tfrecord.decode_frames,
        "decode_and_crop_jpeg": window_decode,
    }

    def then(resample):
        def op(jpegs):
            video = tfrecord.decode_frames(jpegs)
            return resample(video, new_size, offset, size, extent)

        return op

    for name, resample in (
        ("triangle", video_ops._triangle_crop),
        ("crop_and_resize", video_ops._crop_and_resize),
        (
            "bilinear",
            lambda *window: video_ops.resize_whole_and_crop(*window[:4]),
        ),
    ):
        ops[f"decode + {name}"] = then(resample)
    sets = {
        name: decode.one_core(
            tf.data.Dataset.from_tensors(jpegs).repeat().map(op)
        )
        for name, op in ops.items()
    }
    times = timing.interleaved(
        {name: decode._pull(CLIPS) for name in sets},
        ROUNDS,
        setups={name: decode._starter(d) for name, d in sets.items()},
        clock=time.process_time,
    )
    return {name: 1e3 * timing.median(t) / CLIPS for name, t in times.items()}


def datasets(data_dir, size):
    """Name -> one-core training dataset of 16 x `size`^2 clips."""
    result = {"floor": decode.decode_floor(data_dir, 16, BATCH)}
    for name, reduced, resample in (
        ("full", False, CURRENT),
        ("triangle", True, TRIANGLE),
        ("crop_and_resize", True, CROP_AND_RESIZE),
        ("bilinear", True, CURRENT),
    ):
        video_ops.resize_and_crop = resample
        result[name] = pipeline.make_dataset(
            data_dir,
            "train",
            num_frames=16,
            image_size=size,
            batch_size=BATCH,
            training=True,
            shuffle_buffer=8,
            augment=True,
            reduced_decode=reduced,
        )
    video_ops.resize_and_crop = CURRENT
    return {name: decode.one_core(d) for name, d in result.items()}


def speeds(side, size, workdir):
    """Clips per CPU-second of each of `datasets`, interleaved rounds."""
    data_dir = f"{workdir}/decode{side}"
    sets = datasets(data_dir, size)
    times = timing.interleaved(
        {name: decode._pull(CLIPS // BATCH) for name in sets},
        ROUNDS,
        setups={name: decode._starter(d) for name, d in sets.items()},
        clock=time.process_time,
    )
    return {name: CLIPS / timing.median(t) for name, t in times.items()}


def main():
    print("| stored -> crop | triangle mean / p99 | bilinear mean / p99 |")
    for side, size in ERROR_CASES:
        old = pixel_errors(side, size, TRIANGLE)
        new = pixel_errors(side, size, CURRENT)
        print(
            f"| {side} -> {size} | {old[0]:.2f} / {old[1]:.1f}"
            f" | {new[0]:.2f} / {new[1]:.1f} |"
        )
    for side in SPEED_SIDES:
        costs = op_costs(side, 224)
        load = open("/proc/loadavg").read().split()[:3]
        print(
            f"ms per clip, stored {side} -> 224, load {' '.join(load)}: "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in costs.items())
        )
    workdir = tempfile.mkdtemp()
    for side in SPEED_SIDES:
        decode.write_records(f"{workdir}/decode{side}", side, 8, 48)
    print(
        "| stored | crop | floor | full | triangle | crop_and_resize | "
        "bilinear | bilinear/triangle | bilinear/floor | load |"
    )
    for side in SPEED_SIDES:
        for size in SPEED_SIZES:
            rates = speeds(side, size, workdir)
            load = open("/proc/loadavg").read().split()[:3]
            print(
                f"| {side} | 16x{size}^2 | "
                + " | ".join(f"{rates[n]:.1f}" for n in rates)
                + f" | {rates['bilinear'] / rates['triangle']:.2f}"
                + f" | {rates['bilinear'] / rates['floor']:.2f}"
                + f" | {' '.join(load)} |"
            )


if __name__ == "__main__":
    main()
