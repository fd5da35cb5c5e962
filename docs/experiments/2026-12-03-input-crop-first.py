"""Cheaper 256 -> 224 resize + crop with TensorFlow ops (issue #20).

Run from the repository root (CPU timing under the shared lock):

    flock /tmp/tfvidinterp_bench.lock nice -n 5 \\
        python docs/experiments/2026-12-03-input-crop-first.py [TABLE ...]

TABLE is `ops`, `errors` or `pipeline` (default: all three).

Prints three tables, all per core (one thread, CPU seconds of the process,
interleaved rounds in one process, as `benchmarks/decode.py` times them):

1. CPU ms per clip of 16 textured 4:3 frames of each attempt, ops alone in
   a one-thread dataset repeating one clip, stored 256 and 320 -> 224
   (crop at 2/3 of the centre offset): the JPEG decode; decode_and_crop_jpeg
   of the crop's columns (MCU-aligned) and of one MCU column (what the
   entropy decode of every block costs); the previous resample (decode,
   stack, ResizeBilinear of the clip, crop); ResizeBilinear of the clip
   without the crop; crop_and_resize, ScaleAndTranslate (bilinear) and
   ImageProjectiveTransformV3 of the crop's pixels only;
   QuantizedResizeBilinear (uint8) then crop and cast; per frame in the
   decode loop with uint8 and with float32 input ("per-frame f32", the
   new `crop_decode.decode_crop`); ResizeBilinear of a column window
   straight to 224^2 (not exact: sample positions off, printed).
2. Pixel error against the reference (full decode,
   `tf.image.resize(antialias=True)`, crop), levels of 255, 16 frames,
   centre and off-centre crops: previous and new path, and the window.
3. Clips per CPU-second of the training pipeline (uniform sampling, random
   crop, 16 frames): the decode-only floor, the full-decode reference,
   the previous reduced-scale path ("old": decode, stack, resize and crop
   the clip, swapped in for `crop_decode.decode_crop` while its dataset is
   built) and the new one, stored 224, 256, 320 at 16x224^2 and 16x112^2.
"""

import sys
import tempfile
import time

import numpy as np
import tensorflow as tf

from benchmarks import decode
from benchmarks import timing
from tfvidinterp.data import crop_decode
from tfvidinterp.data import pipeline
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops

CLIPS, BATCH, ROUNDS = 48, 4, 7
OP_SIDES = (256, 320)
ERROR_CASES = ((256, 224), (320, 224), (256, 112))
PIPELINE_SIDES = (224, 256, 320)
PIPELINE_SIZES = (224, 112)
NEW = crop_decode.decode_crop
FLOAT_FRAME = tf.TensorSpec([None, None, 3], tf.float32)


def stacked(encoded, new_size, offset, size):
    """The previous reduced-scale path: decode the clip, then resample."""
    video, extent = tfrecord.decode_frames_covering(encoded, new_size)
    return video_ops.resize_and_crop(video, new_size, offset, size, extent)


def window(side, offset, size=224):
    """First column, width and worst sample-position error (stored px) of
    ResizeBilinear of a column window straight to the crop (4:3 frames
    resized at r = 1): the window's scale and phase can only be integers'
    ratios, so its samples miss the resized frame's."""
    width = round(side * 4 / 3)
    scale = round(width * size / side) / width
    first = int(np.floor((offset + 0.5) / scale - 0.5))
    columns = round(size / scale)
    x = np.arange(size)
    exact = (offset + x + 0.5) / scale - 0.5
    approx = first + (x + 0.5) * columns / size - 0.5
    return first, columns, float(np.max(np.abs(exact - approx)))


def attempts(side, size=224):
    """Name -> op from (16,) JPEGs of stored `side` to the crop."""
    stored = (side, round(side * 4 / 3))
    new_size = video_ops.resized_size(stored, size)
    offset = video_ops.center_crop_offset(new_size, size) * 2 // 3
    scale = tf.cast(new_size, tf.float32) / tf.constant(stored, tf.float32)
    first, columns, _ = window(side, int(offset[1]))
    mcu = first // 8 * 8

    def decode_window(x0, width):
        return lambda j: tf.map_fn(
            lambda jpeg: tf.io.decode_and_crop_jpeg(
                jpeg, [0, x0, side, width], channels=3
            ),
            j,
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
        )

    extent = tf.constant(stored, tf.float32)

    def crop_only(resample):
        return lambda j: resample(
            tfrecord.decode_frames(j), new_size, offset, size, extent
        )

    def quantized(j):
        q = tf.raw_ops.QuantizedResizeBilinear(
            images=tf.bitcast(tfrecord.decode_frames(j), tf.quint8),
            size=new_size,
            min=0.0,
            max=255.0,
            half_pixel_centers=True,
        )[0]
        cropped = video_ops.crop(tf.bitcast(q, tf.uint8), offset, size)
        return tf.cast(cropped, tf.float32)

    def scale_translate(video, new_size, offset, size, extent):
        return tf.raw_ops.ScaleAndTranslate(
            images=video,
            size=[size, size],
            scale=scale,
            translation=-tf.cast(offset, tf.float32),
            kernel_type="triangle",
            antialias=False,
        )

    sy, sx = float(scale[0]), float(scale[1])
    ox = float(offset[1])
    transform = [1 / sx, 0, (ox + 0.5) / sx - 0.5, 0, 1 / sy, 0.5 / sy - 0.5]
    transform += [0, 0]

    def projective(video, new_size, offset, size, extent):
        # Output (y, x) samples ((y + 1/2) / s - 1/2, (x + ox + 1/2) / s
        # - 1/2) of the frame; the op samples at pixel centres.
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=tf.cast(video, tf.float32),
            transforms=tf.constant([transform], tf.float32),
            output_shape=[size, size],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="NEAREST",
        )

    def per_frame_u8(j):
        return tfrecord.decode_frames(
            j,
            then=lambda f: video_ops.resize_and_crop(
                f[None], new_size, offset, size
            )[0],
        )

    def window_resize(j):
        video = tfrecord.decode_frames(j)[:, :, first : first + columns]
        return tf.image.resize(video, [size, size])

    return {
        "decode": tfrecord.decode_frames,
        "decode_and_crop_jpeg, crop's columns": decode_window(
            mcu, min(columns + first - mcu + 2, stored[1] - mcu)
        ),
        "decode_and_crop_jpeg, one MCU column": decode_window(mcu, 8),
        "previous (stack, ResizeBilinear, crop)": lambda j: stacked(
            j, new_size, offset, size
        ),
        "ResizeBilinear of the clip, no crop": lambda j: tf.image.resize(
            tfrecord.decode_frames(j), new_size
        ),
        "crop_and_resize": crop_only(video_ops._crop_and_resize),
        "ScaleAndTranslate bilinear": crop_only(scale_translate),
        "ImageProjectiveTransformV3": crop_only(projective),
        "QuantizedResizeBilinear, crop, cast": quantized,
        "per-frame uint8": per_frame_u8,
        "per-frame f32 (new)": lambda j: NEW(j, new_size, offset, size),
        "column window to 224^2 (inexact)": window_resize,
    }


def op_costs(side):
    """CPU ms per clip of each of `attempts(side)`, and the largest
    difference of its crop from the previous path's (levels of 255)."""
    frames = decode.textured_frames(16, side, round(side * 4 / 3))
    jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
    ops = attempts(side)
    previous = ops["previous (stack, ResizeBilinear, crop)"](jpegs)
    differences = {
        name: float(tf.reduce_max(tf.abs(crop - previous)))
        for name, crop in ((n, op(jpegs)) for n, op in ops.items())
        if crop.shape == previous.shape
    }
    sets = {
        name: decode.one_core(
            tf.data.Dataset.from_tensors(jpegs).repeat().map(op)
        )
        for name, op in ops.items()
    }
    seconds = cpu_seconds(sets, CLIPS)
    costs = {name: 1e3 * t / CLIPS for name, t in seconds.items()}
    return costs, differences


def pixel_errors(side, size):
    """Mean and 99th percentile |path - reference| of the previous path,
    the new one and (at 224) the column window; max |new - previous|."""
    frames = decode.textured_frames(16, side, round(side * 4 / 3))
    jpegs = tf.constant(tfrecord._encode_jpegs(frames, 95))
    new_size = video_ops.resized_size(tf.shape(frames)[1:3], size)
    centre = video_ops.center_crop_offset(new_size, size)
    reference = video_ops.resize_short_side(tfrecord.decode_frames(jpegs), size)
    errors = {"previous": [], "new": [], "window": []}
    difference = 0.0
    for offset in (centre, centre // 3):
        truth = video_ops.crop(reference, offset, size)
        old = stacked(jpegs, new_size, offset, size)
        new = NEW(jpegs, new_size, offset, size)
        difference = max(difference, float(tf.reduce_max(tf.abs(new - old))))
        errors["previous"].append(np.abs(old - truth))
        errors["new"].append(np.abs(new - truth))
        if size == 224:
            first, columns, _ = window(side, int(offset[1]))
            video = tfrecord.decode_frames(jpegs)[:, :, first:]
            approx = tf.image.resize(video[:, :, :columns], [size, size])
            errors["window"].append(np.abs(approx - truth))
    stats = {
        name: (float(np.mean(e)), float(np.percentile(e, 99)))
        for name, e in ((n, np.concatenate(v)) for n, v in errors.items() if v)
    }
    return stats, difference


def pipeline_rates(data_dir, size):
    """Clips per CPU-second of floor, full, old and new, interleaved."""
    sets = {"floor": decode.decode_floor(data_dir, 16, BATCH)}
    for name, reduced, decoder in (
        ("full", False, NEW),
        ("old", True, stacked),
        ("new", True, NEW),
    ):
        crop_decode.decode_crop = decoder
        sets[name] = pipeline.make_dataset(
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
    crop_decode.decode_crop = NEW
    sets = {name: decode.one_core(d) for name, d in sets.items()}
    seconds = cpu_seconds(sets, CLIPS // BATCH)
    return {name: CLIPS / t for name, t in seconds.items()}


def cpu_seconds(sets, pulls, rounds=ROUNDS):
    """Name -> median CPU seconds of `pulls` elements of each dataset of
    `sets`, timed in interleaved rounds."""
    times = timing.interleaved(
        {name: decode._pull(pulls) for name in sets},
        rounds,
        setups={name: decode._starter(d) for name, d in sets.items()},
        clock=time.process_time,
    )
    return {name: timing.median(t) for name, t in times.items()}


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main(tables):
    if "ops" in tables:
        print_op_costs()
    if "errors" in tables:
        print_errors()
    if "pipeline" in tables:
        print_pipeline()


def print_op_costs():
    for side in OP_SIDES:
        new_size = video_ops.resized_size((side, round(side * 4 / 3)), 224)
        offset = int(video_ops.center_crop_offset(new_size, 224)[1]) * 2 // 3
        print(
            f"stored {side} -> 224, crop at x = {offset}: column window "
            f"{window(side, offset)[:2]}, samples off by up to "
            f"{window(side, offset)[2]:.2f} px"
        )
        costs, differences = op_costs(side)
        print(
            f"| op, stored {side} -> 224 (load {load()}) | ms/clip | "
            "over decode | max abs - previous |"
        )
        for name, ms in costs.items():
            difference = differences.get(name)
            print(
                f"| {name} | {ms:.2f} | {ms - costs['decode']:+.2f} | "
                + ("-" if difference is None else f"{difference:.3g}")
                + " |"
            )


def print_errors():
    print(
        "| stored -> crop | previous mean / p99 | new mean / p99 | "
        "window mean / p99 | max abs new - previous |"
    )
    for side, size in ERROR_CASES:
        stats, difference = pixel_errors(side, size)
        cells = [
            f"{stats[n][0]:.2f} / {stats[n][1]:.1f}" if n in stats else "-"
            for n in ("previous", "new", "window")
        ]
        print(
            f"| {side} -> {size} | "
            + " | ".join(cells)
            + f" | {difference:g} |"
        )


def print_pipeline():
    workdir = tempfile.mkdtemp()
    print(
        "| stored | crop | floor | full | old | new | new/old | old/floor "
        "| new/floor | load |"
    )
    for side in PIPELINE_SIDES:
        data_dir = f"{workdir}/decode{side}"
        decode.write_records(data_dir, side, 8, 48)
        for size in PIPELINE_SIZES:
            r = pipeline_rates(data_dir, size)
            print(
                f"| {side} | 16x{size}^2 | "
                + " | ".join(f"{r[n]:.1f}" for n in r)
                + f" | {r['new'] / r['old']:.2f}"
                + f" | {r['old'] / r['floor']:.2f}"
                + f" | {r['new'] / r['floor']:.2f} | {load()} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ("ops", "errors", "pipeline"))
