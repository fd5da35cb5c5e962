"""Decoding a clip's JPEGs straight into the crop of its resized frames.

The reduced-scale decode of the input pipeline: the JPEGs are decoded at
the smallest DCT scale that covers the resized frames, then only the crop
is resampled (`tfrecord.decode_frames_covering`,
`video_ops.resize_and_crop`; docs/design.md, "Reduced-scale decode").
"""

import tensorflow as tf

from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops


def decode_crop(encoded, new_size, offset, size):
    """`video_ops.resize_and_crop` of `tfrecord.decode_frames_covering`,
    pixel for pixel, in less time where frames are resized whole.

    That is the case of full-scale decodes shrunk by less than 2 (stored
    short side 256 or 320 to a 224 crop): there each frame is decoded,
    cast to float32, resized and cropped in the step that decodes it,
    while it is in cache, instead of resizing and cropping the stacked
    clip. Casting first spares ResizeBilinear a conversion of every uint8
    it reads (about three reads per pixel at these scales). The ops
    alone: 0.66x the CPU time of the resize and crop at 256 -> 224,
    0.67-0.84x at 320; in the whole pipeline a few per cent, within the
    noise of its benchmark
    (docs/experiments/2026-12-03-input-crop-first.md).

    Args:
        encoded: (T,) JPEGs of one size.
        new_size: (2,) int (height, width) of the resized frames.
        offset: (2,) int (y, x) of the crop in the resized frames.
        size: Int or (height, width) of the crop.

    Returns:
        (T, height, width, 3) float32.
    """
    stored = tf.io.extract_jpeg_shape(encoded[0])[:2]
    full_scale = tf.equal(tfrecord.covering_ratio(stored, new_size), 0)

    def per_frame(frame):
        # No conditions in the loop: each would run for every frame.
        frame = tf.cast(frame, tf.float32)[None]
        return video_ops.resize_whole_and_crop(frame, new_size, offset, size)[0]

    def stacked():
        video, extent = tfrecord.decode_frames_covering(encoded, new_size)
        return video_ops.resize_and_crop(video, new_size, offset, size, extent)

    return tf.cond(
        full_scale & video_ops.resizes_whole_frames(stored, new_size),
        lambda: tfrecord.decode_frames(encoded, then=per_frame),
        stacked,
    )
