"""Per-frame decode+resize+crop at 256 -> 224: loop and condition costs.

Run from the repository root (CPU timing under the shared lock):

    flock /tmp/tfvidinterp_bench.lock nice -n 5 \\
        python docs/experiments/2026-12-03-input-crop-first-loop.py

Times the training pipeline at 16x224^2 from 256 px 4:3 frames (as the
pipeline table of 2026-12-03-input-crop-first.py does, but 15 rounds) with
`crop_decode.decode_crop` swapped for: the previous path ("old"); the
committed one ("new": a condition on the header, then a `map_fn` over the
frames); the same loop without the condition ("forced", which is only
right for these frames); the frames unrolled (static T = 16, each frame's
decode after the previous frame's crop, so one frame is in cache at a
time) without ("unstacked") and with the condition ("cond_unstacked").
"""

import importlib.util
import os
import tempfile

import tensorflow as tf

from benchmarks import decode
from tfvidinterp.data import crop_decode
from tfvidinterp.data import pipeline
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops

ROUNDS = 15
_SPEC = importlib.util.spec_from_file_location(
    "crop_first",
    os.path.join(os.path.dirname(__file__), "2026-12-03-input-crop-first.py"),
)
crop_first = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(crop_first)


def forced(encoded, new_size, offset, size):
    def per_frame(frame):
        frame = tf.cast(frame, tf.float32)[None]
        return video_ops.resize_whole_and_crop(frame, new_size, offset, size)[0]

    return tfrecord.decode_frames(encoded, then=per_frame)


def unstacked(encoded, new_size, offset, size):
    crops = []
    for jpeg in tf.unstack(encoded, 16):
        with tf.control_dependencies(crops[-1:]):
            frame = tf.io.decode_jpeg(jpeg, channels=3)
        frame = tf.cast(frame, tf.float32)[None]
        crops.append(
            video_ops.resize_whole_and_crop(frame, new_size, offset, size)[0]
        )
    return tf.stack(crops)


def cond_unstacked(encoded, new_size, offset, size):
    stored = tf.io.extract_jpeg_shape(encoded[0])[:2]
    full_scale = tf.equal(tfrecord.covering_ratio(stored, new_size), 0)
    return tf.cond(
        full_scale & video_ops.resizes_whole_frames(stored, new_size),
        lambda: unstacked(encoded, new_size, offset, size),
        lambda: crop_first.stacked(encoded, new_size, offset, size),
    )


def main():
    data_dir = tempfile.mkdtemp()
    decode.write_records(data_dir, 256, 8, 48)
    batch, clips = crop_first.BATCH, crop_first.CLIPS
    sets = {"floor": decode.decode_floor(data_dir, 16, batch)}
    for name, decoder in (
        ("old", crop_first.stacked),
        ("new", crop_first.NEW),
        ("forced", forced),
        ("unstacked", unstacked),
        ("cond_unstacked", cond_unstacked),
    ):
        crop_decode.decode_crop = decoder
        sets[name] = pipeline.make_dataset(
            data_dir,
            "train",
            num_frames=16,
            image_size=224,
            batch_size=batch,
            training=True,
            shuffle_buffer=8,
            augment=True,
        )
    crop_decode.decode_crop = crop_first.NEW
    sets = {name: decode.one_core(d) for name, d in sets.items()}
    seconds = crop_first.cpu_seconds(sets, clips // batch, ROUNDS)
    ms = {name: 1e3 * t / clips for name, t in seconds.items()}
    print(f"load {crop_first.load()}")
    for name, value in ms.items():
        print(f"{name}: {value:.2f} ms per clip, {ms['floor'] / value:.2f}")


if __name__ == "__main__":
    main()
