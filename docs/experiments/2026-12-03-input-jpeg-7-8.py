"""Would libjpeg-turbo's 7/8 DCT scale (256 -> 224 exactly) feed 16x224^2
clips from frames stored at 256 faster? TensorFlow's decoder offers 1/2,
1/4 and 1/8 only; simplejpeg (libjpeg-turbo's TurboJPEG API, releases the
GIL) offers every M/8. One clip: 16 textured 256x341 frames (the decode
benchmark's), JPEG quality 95, 4:4:4. Timed in CPU seconds, one thread,
interleaved rounds: TensorFlow's full decode (the pipeline benchmark's
floor), simplejpeg at 7/8 plus the centre crop in NumPy, and the same
inside `tf.numpy_function` as a tf.data map would call it. Pixel error of
the 7/8 decode against the full decode, antialiased resize and crop.

Not a dependency of the project: `pip install simplejpeg` first. Run from
the repository root:
    flock /tmp/tfvidinterp_bench.lock python \
        docs/experiments/2026-12-03-input-jpeg-7-8.py ROUNDS
"""

import sys

sys.path.insert(0, ".")
# tfvidinterp first: it turns oneDNN on before TensorFlow loads.
import tfvidinterp  # noqa: E402, F401, I001

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import simplejpeg  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import decode  # noqa: E402
from benchmarks import timing  # noqa: E402

_CROP = 224


def encode(frames):
    params = [
        cv2.IMWRITE_JPEG_QUALITY,
        95,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ]
    return [
        cv2.imencode(".jpg", frame[..., ::-1], params)[1].tobytes()
        for frame in frames
    ]


@tf.function
def full_decode(encoded):
    return tf.map_fn(
        lambda jpeg: tf.io.decode_jpeg(jpeg, channels=3),
        encoded,
        fn_output_signature=tf.uint8,
    )


def decode_7_8(jpegs):
    clip = np.empty((len(jpegs), _CROP, _CROP, 3), np.uint8)
    for index, jpeg in enumerate(jpegs):
        frame = simplejpeg.decode_jpeg(
            jpeg, colorspace="RGB", min_height=_CROP, min_width=_CROP
        )
        left = (frame.shape[1] - _CROP) // 2
        clip[index] = frame[:_CROP, left : left + _CROP]
    return clip


@tf.function
def decode_7_8_in_tf(encoded):
    return tf.numpy_function(decode_7_8, [encoded], tf.uint8, stateful=False)


def pixel_error(jpeg):
    scaled = decode_7_8([jpeg])[0].astype(np.float32)
    full = tf.cast(tf.io.decode_jpeg(jpeg, channels=3), tf.float32)
    width = round(full.shape[1] * _CROP / full.shape[0])
    resized = tf.image.resize(full, (_CROP, width), antialias=True).numpy()
    left = (width - _CROP) // 2
    error = np.abs(scaled - resized[:, left : left + _CROP])
    return error.mean(), np.percentile(error, 99)


def main(rounds):
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    jpegs = encode(decode.textured_frames(16, 256, 341))
    encoded = tf.constant(jpegs)
    print("pixel error, mean / p99 levels: %.2f / %.1f" % pixel_error(jpegs[0]))
    calls = {
        "TensorFlow full decode (floor)": lambda: full_decode(encoded).numpy(),
        "simplejpeg 7/8 + crop": lambda: decode_7_8(jpegs),
        "the same in tf.numpy_function": lambda: decode_7_8_in_tf(
            encoded
        ).numpy(),
    }
    times = timing.interleaved(calls, rounds, clock=timing.time.process_time)
    seconds = {name: timing.median(value) for name, value in times.items()}
    floor = seconds["TensorFlow full decode (floor)"]
    for name, value in seconds.items():
        print(
            f"{name}: {value * 1e3:.2f} ms CPU a clip,"
            f" {1 / value:.1f} clips/CPU-s, {floor / value:.2f} of the floor"
        )
    print("load", open("/proc/loadavg").read())


if __name__ == "__main__":
    main(int(sys.argv[1]))
