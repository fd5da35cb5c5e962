"""Clips as `tf.train.SequenceExample`s with the TF Model Garden keys.

Context: `clip/id`, `clip/label/index`, `clip/label/text`,
`clip/frames/original` and, for clips with ground truth, `clip/event/start`
and `clip/event/end` (stored-frame indices, end exclusive). Feature lists:
`image/encoded` (one RGB JPEG per stored frame) and, with ground truth,
`region/bbox/{ymin,xmin,ymax,xmax}` (per frame one value per visible object).
"""

import cv2
import numpy as np
import tensorflow as tf

from tfvidinterp.data import synthetic

# The DCT scales libjpeg decodes at (1/ratio), ascending.
DCT_RATIOS = (1, 2, 4, 8)
_BBOX_KEYS = tuple(
    f"region/bbox/{side}" for side in ("ymin", "xmin", "ymax", "xmax")
)


def encode_example(
    frames: np.ndarray,
    label: int,
    label_text: str,
    clip_id: str,
    num_original_frames: int,
    ground_truth=None,
    jpeg_quality: int = 95,
) -> bytes:
    """Serialises one clip.

    Frames are JPEG-encoded with OpenCV without chroma subsampling (4:4:4),
    which keeps the sharp colour edges of small frames. It runs no TF op
    (OpenCV and protobuf only), so forked worker processes may call it.

    Args:
        frames: (T, H, W, 3) uint8 RGB.
        label: Class index.
        label_text: Class name.
        clip_id: Unique clip id.
        num_original_frames: Frame count of the source video before any cap.
        ground_truth: None, or an object with `window` (start, end),
            `boxes` (T, MAX_OBJECTS, 4) and `box_valid` (T, MAX_OBJECTS) like
            `synthetic.Clip`, for the same T frames.
        jpeg_quality: JPEG quality, 0 to 100.

    Returns:
        The serialised `tf.train.SequenceExample`.
    """
    jpegs = _encode_jpegs(frames, jpeg_quality)
    context = {
        "clip/id": _bytes([clip_id.encode()]),
        "clip/label/index": _ints([label]),
        "clip/label/text": _bytes([label_text.encode()]),
        "clip/frames/original": _ints([num_original_frames]),
    }
    lists = {"image/encoded": [_bytes([jpeg]) for jpeg in jpegs]}
    if ground_truth is not None:
        context["clip/event/start"] = _ints([ground_truth.window[0]])
        context["clip/event/end"] = _ints([ground_truth.window[1]])
        lists.update(_box_lists(ground_truth.boxes, ground_truth.box_valid))
    example = tf.train.SequenceExample(
        context=tf.train.Features(feature=context),
        feature_lists=tf.train.FeatureLists(
            feature_list={
                key: tf.train.FeatureList(feature=value)
                for key, value in lists.items()
            }
        ),
    )
    # Deterministic map order: the same clip gives the same bytes in every
    # process, so prepared datasets are byte-reproducible.
    return example.SerializeToString(deterministic=True)


def _encode_jpegs(frames, jpeg_quality):
    """Returns one JPEG (bytes) per frame of `(T, H, W, 3)` RGB `frames`.

    OpenCV, not TF, so that forked workers may call it; 4:4:4 (no chroma
    subsampling) keeps the sharp colour edges of small frames.
    """
    params = [
        cv2.IMWRITE_JPEG_QUALITY,
        int(jpeg_quality),
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ]
    encoded = []
    for frame in np.asarray(frames, np.uint8):
        # OpenCV takes BGR.
        _, buffer = cv2.imencode(".jpg", frame[..., ::-1], params)
        encoded.append(buffer.tobytes())
    return encoded


def _box_lists(boxes, box_valid):
    """Returns the `region/bbox/*` feature lists of a clip's boxes.

    Args:
        boxes: `(T, MAX_OBJECTS, 4)` normalised (ymin, xmin, ymax, xmax).
        box_valid: `(T, MAX_OBJECTS)` bool.

    Returns:
        A dict from each of `_BBOX_KEYS` to T float features, each holding
        that side of the frame's visible boxes, in slot order.
    """
    valid = np.asarray(box_valid, bool)
    boxes = np.asarray(boxes, np.float32)
    return {
        key: [
            tf.train.Feature(
                float_list=tf.train.FloatList(value=frame[ok, side].tolist())
            )
            for frame, ok in zip(boxes, valid)
        ]
        for side, key in enumerate(_BBOX_KEYS)
    }


def parse_example(serialized: tf.Tensor) -> dict:
    """Parses one serialised clip; works eagerly and inside `tf.data`.

    Args:
        serialized: Scalar string tensor from `encode_example`.

    Returns:
        A dict: `frames_encoded` (T,) string JPEGs; `id`, `label_text`
        scalar strings; `label`, `num_original_frames`, `event_start`,
        `event_end` int32 scalars (event -1 without ground truth); `boxes`
        (T, MAX_OBJECTS, 4) float32, zeros where absent; `box_valid`
        (T, MAX_OBJECTS) bool. A frame's boxes fill the object slots in the
        order they were written.
    """
    context_features = {
        "clip/id": tf.io.FixedLenFeature([], tf.string),
        "clip/label/index": tf.io.FixedLenFeature([], tf.int64),
        "clip/label/text": tf.io.FixedLenFeature([], tf.string, ""),
        "clip/frames/original": tf.io.FixedLenFeature([], tf.int64, -1),
        "clip/event/start": tf.io.FixedLenFeature([], tf.int64, -1),
        "clip/event/end": tf.io.FixedLenFeature([], tf.int64, -1),
    }
    sequence_features = {
        "image/encoded": tf.io.FixedLenSequenceFeature([], tf.string)
    }
    for key in _BBOX_KEYS:
        sequence_features[key] = tf.io.RaggedFeature(tf.float32)
    context, sequences = tf.io.parse_single_sequence_example(
        serialized, context_features, sequence_features
    )
    frames_encoded = sequences["image/encoded"]
    shape = [tf.shape(frames_encoded)[0], synthetic.MAX_OBJECTS]
    # Clips without ground truth have no box lists; padding gives zeros.
    sides = [sequences[key].to_tensor(0.0, shape=shape) for key in _BBOX_KEYS]
    ymin = sequences[_BBOX_KEYS[0]]
    valid = tf.ones_like(ymin, tf.bool).to_tensor(False, shape=shape)
    return {
        "frames_encoded": frames_encoded,
        "id": context["clip/id"],
        "label": tf.cast(context["clip/label/index"], tf.int32),
        "label_text": context["clip/label/text"],
        "num_original_frames": tf.cast(
            context["clip/frames/original"], tf.int32
        ),
        "event_start": tf.cast(context["clip/event/start"], tf.int32),
        "event_end": tf.cast(context["clip/event/end"], tf.int32),
        "boxes": tf.stack(sides, axis=-1),
        "box_valid": valid,
    }


def decode_frames(frames_encoded: tf.Tensor, ratio: int = 1, then=None):
    """Decodes (T,) JPEG strings into (T, H, W, 3) uint8 RGB frames.

    `ratio` (1, 2, 4 or 8) scales them down in the DCT domain, to
    `ceil(H / ratio)` by `ceil(W / ratio)` pixels. `then`, a function of one
    (H, W, 3) uint8 frame returning a float32 (H', W', 3) one, is applied to
    each frame in the step that decodes it, while the frame is in cache;
    the result is then (T, H', W', 3) float32.
    """

    def decode(image):
        return tf.io.decode_jpeg(image, channels=3, ratio=ratio)

    dtype = tf.uint8 if then is None else tf.float32
    return tf.map_fn(
        decode if then is None else lambda image: then(decode(image)),
        frames_encoded,
        fn_output_signature=tf.TensorSpec([None, None, 3], dtype),
    )


def covering_ratio(stored_size, new_size):
    """The int32 index into `DCT_RATIOS` of the largest ratio at which
    frames of (2,) int `stored_size` still decode to cover (2,) int
    `new_size` (height, width), so that resizing them only shrinks."""
    ratios = tf.constant(DCT_RATIOS)
    stored = tf.cast(stored_size, tf.int32)
    decoded = (stored[None] + ratios[:, None] - 1) // ratios[:, None]
    covers = tf.reduce_all(decoded >= tf.cast(new_size, tf.int32), axis=1)
    # Ratios ascend, so the last one that covers is the largest.
    return tf.cast(tf.reduce_max(tf.where(covers)[:, 0]), tf.int32)


def decode_frames_covering(frames_encoded: tf.Tensor, new_size):
    """Decodes (T,) JPEGs of one size at the smallest DCT scale (1, 1/2,
    1/4 or 1/8) whose frames still cover (2,) int `new_size` (height,
    width), so that resizing them to `new_size` only shrinks.

    Returns:
        `(frames, extent)`: (T, h, w, 3) uint8 RGB frames, h >= new_size[0],
        w >= new_size[1], and the (2,) float32 stored size over the ratio,
        the frame's true extent in decoded pixels (libjpeg rounds h and w
        up).
    """
    stored = tf.io.extract_jpeg_shape(frames_encoded[0])[:2]
    index = covering_ratio(stored, new_size)
    frames = tf.switch_case(
        index,
        [lambda r=r: decode_frames(frames_encoded, r) for r in DCT_RATIOS],
    )
    ratio = tf.cast(tf.gather(DCT_RATIOS, index), tf.float32)
    return frames, tf.cast(stored, tf.float32) / ratio


def shard_path(output_dir: str, split: str, index: int, num_shards: int):
    """Returns the path of shard `index` of `num_shards` of a split."""
    return f"{output_dir}/{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def shard_pattern(data_dir: str, split: str) -> str:
    """Returns the glob pattern matching every shard of a split."""
    return f"{data_dir}/{split}-*-of-*.tfrecord"


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
