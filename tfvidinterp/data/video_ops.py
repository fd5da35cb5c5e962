"""Tensor ops on one clip: frame sampling, resize, crop and flip.

Every op works on one `video` of shape (frames, height, width, channels),
runs eagerly and inside `tf.data.Dataset.map`, and applies the same spatial
transform to every frame. Boxes are (frames, objects, 4) float32 normalised
(ymin, xmin, ymax, xmax) with a (frames, objects) bool `box_valid`; invalid
boxes are zeros. Resizing keeps normalised boxes unchanged, cropping and
flipping have their own box functions. Random ops take `seed=None` (TF's
global generator) or a shape-(2,) integer tensor (stateless, reproducible).
"""

import tensorflow as tf

from tfvidinterp import errors

SAMPLING_MODES = ("uniform", "segment")
# Below this resize scale plain bilinear interpolation skips input pixels.
MIN_BILINEAR_SCALE = 0.5


def sample_indices(num_stored, num_frames: int, mode="uniform", seed=None):
    """Chooses `num_frames` indices into a clip of `num_stored` frames.

    `uniform` takes the middle of each of `num_frames` equal segments,
    `floor((i + 1/2) * num_stored / num_frames)`: 16 of 48 frames gives
    1, 4, 7, ..., 46. `segment` takes a random frame of each segment. Both
    are sorted; a clip shorter than `num_frames` repeats frames in order
    (4 frames to 8 gives 0, 0, 1, 1, 2, 2, 3, 3).

    Args:
        num_stored: Scalar int, frames in the clip (at least 1).
        num_frames: T, the number of indices.
        mode: "uniform" or "segment".
        seed: For `segment`: None or a shape-(2,) int tensor.

    Returns:
        (T,) int32 indices in [0, num_stored).

    Raises:
        errors.InputError: On an unknown mode.
    """
    if mode not in SAMPLING_MODES:
        raise errors.InputError(
            f"Unknown sampling {mode!r}; known: {list(SAMPLING_MODES)}."
        )
    stored = tf.cast(num_stored, tf.int32)
    steps = tf.range(num_frames, dtype=tf.int32)
    if mode == "uniform":
        return (2 * steps + 1) * stored // (2 * num_frames)
    low = steps * stored // num_frames
    width = tf.maximum((steps + 1) * stored // num_frames - low, 1)
    offsets = tf.cast(
        _uniform([num_frames], seed) * tf.cast(width, tf.float32), tf.int32
    )
    return tf.minimum(low + offsets, stored - 1)


def resize_short_side(video, size):
    """Resizes keeping the aspect ratio so the frames cover `size`.

    For an int this is the usual "short side to `size`"; for (height, width)
    the smallest such frame that contains that crop.

    Args:
        video: (T, H, W, C) any real dtype.
        size: Int or (height, width).

    Returns:
        (T, H', W', C) float32, antialiased bilinear; unchanged values when
        the size already fits exactly.
    """
    new_size = resized_size(tf.shape(video)[1:3], size)
    video = tf.cast(video, tf.float32)
    return tf.cond(
        tf.reduce_all(new_size == tf.shape(video)[1:3]),
        lambda: video,
        lambda: tf.image.resize(video, new_size, antialias=True),
    )


def resized_size(frame_size, size):
    """The (2,) int32 (height, width) that `resize_short_side` gives frames
    of (2,) `frame_size` for `size` (int or (height, width))."""
    target = tf.constant(height_width(size), tf.float64)
    frame = tf.cast(frame_size, tf.float64)
    scale = tf.reduce_max(target / frame)
    return tf.cast(tf.maximum(tf.round(frame * scale), target), tf.int32)


def resize_and_crop(video, new_size, offset, size, extent=None):
    """`crop(resize_short_side(...), offset, size)` of frames resized to
    `new_size`, cheaply: computing mostly the crop's pixels, and with plain
    bilinear interpolation where the resize shrinks by less than 2.

    At scales of `MIN_BILINEAR_SCALE` or more (all a reduced-scale decode
    leaves, unless frames are over 16 times the crop) the radius of the
    antialiased triangle filter of `resize_short_side` is at most 2 input
    pixels, so plain bilinear stays within a few levels of it at a
    fraction of its cost (docs/experiments/2026-12-03-input-pipeline.md,
    tests/reduced_decode_test.py). Below that scale,
    bilinear would skip pixels: the triangle filter, as `resize_short_side`
    does. Either way the pixel centres are those of resizing the whole
    frame, so the crop sits where `crop` puts it.

    Args:
        video: (T, h, w, C) any real dtype, e.g. a reduced-scale decode of
            the frames `new_size` refers to.
        new_size: (2,) int (height, width) of the resized frames.
        offset: (2,) int (y, x) of the crop in the resized frames.
        size: Int or (height, width) of the crop.
        extent: (2,) float (height, width), in `video`'s pixels, of the
            frame that maps onto `new_size`; default (h, w). A decode at
            1/r of an odd size has a last pixel that is only part real.

    Returns:
        (T, height, width, C) float32.
    """
    frame = tf.cast(tf.shape(video)[1:3], tf.float32)
    extent = frame if extent is None else extent
    target = tf.cast(new_size, tf.float32)
    window = (video, new_size, offset, size, extent)
    # The first method that applies. Past the first, a frame whose extent
    # is not its pixel grid (or that is not resized, or shrinks by over 2)
    # is resampled for the crop only.
    applies = tf.stack(
        [
            resizes_whole_frames(frame, new_size, extent),
            tf.reduce_all(target == extent),
            tf.reduce_all(target / extent >= MIN_BILINEAR_SCALE),
            True,
        ]
    )
    return tf.switch_case(
        tf.cast(tf.where(applies)[0, 0], tf.int32),
        [
            lambda: resize_whole_and_crop(*window[:4]),
            lambda: tf.cast(crop(video, offset, size), tf.float32),
            lambda: _crop_and_resize(*window),
            lambda: _triangle_crop(*window),
        ],
    )


def resizes_whole_frames(frame_size, new_size, extent=None):
    """Whether `resize_and_crop` of frames of (2,) `frame_size` (and
    `extent`, default the same) to `new_size` resizes them whole with
    ResizeBilinear, then crops: the size changes, by a scale of at least
    `MIN_BILINEAR_SCALE`, and the extent is the frame's pixel grid."""
    frame = tf.cast(frame_size, tf.float32)
    extent = frame if extent is None else extent
    target = tf.cast(new_size, tf.float32)
    return (
        tf.reduce_any(target != extent)
        & tf.reduce_all(target / extent >= MIN_BILINEAR_SCALE)
        & tf.reduce_all(extent == frame)
    )


def resize_whole_and_crop(video, new_size, offset, size):
    """Bilinear `resize_and_crop` of frames whose extent is their pixel
    grid (`resizes_whole_frames`), without its conditions: the whole frame
    resized as `tf.image.resize(antialias=False)` does, then cropped.
    ResizeBilinear takes under half the time per pixel of
    `crop_and_resize`, which more than pays for the columns it computes
    outside the crop."""
    return crop(tf.image.resize(video, new_size), offset, size)


def _crop_and_resize(video, new_size, offset, size, extent):
    """Bilinear `resize_and_crop` of the crop's pixels only, for any
    extent, with the half-pixel centres and clamped edges of
    `tf.image.resize(antialias=False)`."""
    # crop_and_resize samples box corners at pixel centres and fills
    # outside the frame: map the half-pixel centres onto its convention.
    # Only an upscale (extent < new_size) samples outside, by under half a
    # pixel: there a copy of the edge pixels makes the edges clamp
    # (concatenated: MirrorPad cost 3x the JPEG decode of 256 px frames).
    scale = tf.cast(new_size, tf.float32) / extent
    upscale = tf.reduce_any(scale > 1.0)
    video = tf.cond(upscale, lambda: _repeat_edges(video), lambda: video)
    margin = tf.cast(upscale, tf.float32)
    first = (tf.cast(offset, tf.float32) + 0.5) / scale - 0.5 + margin
    crop_size = height_width(size)
    last = first + (tf.constant(crop_size, tf.float32) - 1.0) / scale
    frame = tf.cast(tf.shape(video)[1:3], tf.float32)
    corners = tf.maximum(frame - 1.0, 1.0)  # 1 px frames: any box.
    box = tf.concat([first, last], 0) / tf.tile(corners, [2])
    count = tf.shape(video)[0]
    return tf.image.crop_and_resize(
        video, tf.tile(box[None], [count, 1]), tf.range(count), crop_size
    )


def _repeat_edges(video):
    """(T, h + 2, w + 2, C): `video` with its edge pixels repeated."""
    video = tf.concat([video[:, :1], video, video[:, -1:]], axis=1)
    return tf.concat([video[:, :, :1], video, video[:, :, -1:]], axis=2)


def _triangle_crop(video, new_size, offset, size, extent):
    """Antialiased `resize_and_crop`, the filter of `resize_short_side`."""
    return tf.raw_ops.ScaleAndTranslate(
        images=video,
        size=tf.constant(height_width(size), tf.int32),
        scale=tf.cast(new_size, tf.float32) / extent,
        translation=-tf.cast(offset, tf.float32),
        kernel_type="triangle",
        antialias=True,
    )


def center_crop_offset(frame_size, size):
    """Returns the (2,) int32 (y, x) offset of a centred crop of `size`."""
    return _margin(frame_size, size) // 2


def random_crop_offset(frame_size, size, seed=None):
    """Returns a uniformly random (2,) int32 (y, x) crop offset.

    Args:
        frame_size: (2,) (height, width) of the frames.
        size: Int or (height, width) of the crop.
        seed: None or a shape-(2,) int tensor.
    """
    margin = _margin(frame_size, size)
    scaled = _uniform([2], seed) * tf.cast(margin + 1, tf.float32)
    return tf.minimum(tf.cast(scaled, tf.int32), margin)


def crop(video, offset, size):
    """Crops every frame at the (y, x) `offset` to `size` (int or (h, w))."""
    height, width = height_width(size)
    begin = tf.stack([0, offset[0], offset[1], 0])
    return tf.slice(video, begin, [-1, height, width, -1])


def center_crop(video, size):
    """Crops the centre `size` (int or (h, w)) of every frame."""
    return crop(video, center_crop_offset(tf.shape(video)[1:3], size), size)


def random_crop(video, size, seed=None):
    """Crops the same random `size` window from every frame."""
    offset = random_crop_offset(tf.shape(video)[1:3], size, seed)
    return crop(video, offset, size)


def crop_boxes(boxes, box_valid, frame_size, offset, size):
    """Maps boxes into a crop; boxes left outside it become invalid.

    Args:
        boxes: (..., 4) float32 normalised to the frame.
        box_valid: (...) bool.
        frame_size: (2,) (height, width) of the frame before the crop.
        offset: (2,) (y, x) crop offset in pixels, as given to `crop`.
        size: Int or (height, width) of the crop.

    Returns:
        `(boxes, box_valid)` normalised to the crop, clipped to [0, 1].
    """
    frame = tf.cast(tf.tile(frame_size, [2]), tf.float32)
    start = tf.cast(tf.tile(offset, [2]), tf.float32)
    extent = tf.constant(height_width(size) * 2, tf.float32)
    cropped = tf.clip_by_value((boxes * frame - start) / extent, 0.0, 1.0)
    box_valid = (
        box_valid
        & (cropped[..., 2] > cropped[..., 0])
        & (cropped[..., 3] > cropped[..., 1])
    )
    return _zero_invalid(cropped, box_valid), box_valid


def flip_left_right(video):
    """Mirrors every frame of a (T, H, W, C) video horizontally."""
    return tf.reverse(video, axis=[2])


def flip_boxes_left_right(boxes, box_valid):
    """Mirrors normalised (..., 4) boxes horizontally; invalid stay zeros."""
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    flipped = tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=-1)
    return _zero_invalid(flipped, box_valid)


def height_width(size):
    """`(height, width)` ints of a frame size: an int (square) or a pair."""
    if isinstance(size, (tuple, list)):
        height, width = size
        return (int(height), int(width))
    return (int(size), int(size))


def _margin(frame_size, size):
    frame_size = tf.cast(frame_size, tf.int32)
    margin = frame_size - tf.constant(height_width(size), tf.int32)
    check = tf.debugging.assert_non_negative(
        margin, message=f"crop {height_width(size)} is larger than the frame"
    )
    with tf.control_dependencies([check]):
        return tf.identity(margin)


def _uniform(shape, seed):
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed)


def _zero_invalid(boxes, box_valid):
    return tf.where(box_valid[..., None], boxes, tf.zeros_like(boxes))
