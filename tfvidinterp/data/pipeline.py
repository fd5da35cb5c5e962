"""The tf.data input pipeline over the TFRecord shards of a prepared split.

Shards are listed, sharded per input pipeline, interleaved and parsed; T
frame indices are chosen, only those JPEGs are decoded, and the clip is
resized (short side), cropped and batched per replica.

Each element of a dataset is a dict of a batch of B clips:

* `frames`: `(B, T, H, W, 3)` float32 RGB in [0, 255].
* `label`: `(B,)` int32.
* `id`: `(B,)` string.
* `frame_indices`: `(B, T)` int32 indices of the stored frames.
* `event`: `(B, T)` float32, 1 where the frame lies in the ground-truth
  window.
* `has_ground_truth`: `(B,)` bool.
* `boxes`: `(B, T, MAX_OBJECTS, 4)` float32 normalised to the output frame.
* `box_valid`: `(B, T, MAX_OBJECTS)` bool.
"""

import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.data import crop_decode
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_ops

# Shards read at once; more would only hold more files open.
_MAX_CYCLE = 8


def make_dataset(
    data_dir: str,
    split: str,
    *,
    num_frames: int,
    image_size,
    batch_size: int,
    training: bool,
    sampling: str = "uniform",
    shuffle_buffer: int = 256,
    seed: int = 0,
    input_context: tf.distribute.InputContext | None = None,
    augment: bool = False,
    flip: bool = False,
    flip_labels=None,
    reduced_decode: bool = True,
) -> tf.data.Dataset:
    """Builds the dataset of one split: dicts keyed as the module docstring
    lists, `batch_size` clips (the GLOBAL batch: with `input_context` each
    pipeline batches its per-replica share) of `num_frames` frames cropped
    to `image_size` (an int, or (height, width)) after the short side is
    resized to cover it.

    Training shuffles shard files and clips (`shuffle_buffer`, `seed`),
    repeats forever, drops the last partial batch, samples frames
    `sampling` ("uniform", or "segment": a random frame per segment), crops
    at random with `augment` and then, with `flip`, mirrors half the clips
    (relabelled by `flip_labels`, a label's label after mirroring; off by
    default since mirroring changes left/right classes). Evaluation reads
    every clip once in a fixed order, samples uniformly and crops the
    centre. `reduced_decode` decodes JPEGs at the smallest DCT scale
    (1, 1/2, 1/4, 1/8) that still covers the resized frames and resamples
    for the crop (`crop_decode.decode_crop`, bilinear at scales >= 1/2):
    the same frames and crop windows, pixels within a few levels of the
    full decode (False: full decode, antialiased resize, crop; the
    reference). `input_context` (from
    `strategy.distribute_datasets_from_function`) shards files per
    pipeline, or clips when there are fewer files than pipelines.

    Raises:
        errors.InputError: No shards for the split, num_frames < 1, an unknown
            sampling, or a batch that does not split evenly over the replicas.
    """
    _check_args(num_frames, sampling)
    pipelines, pipeline_id, replicas = _layout(input_context, batch_size)
    dataset = _records(data_dir, split, training, pipelines, pipeline_id, seed)
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed + pipeline_id)
    options = (num_frames, image_size, sampling, augment, flip, flip_labels)
    options += (reduced_decode,)
    dataset = _decode_clips(dataset, seed + pipeline_id, training, *options)
    dataset = dataset.batch(batch_size // replicas, drop_remainder=training)
    return dataset.prefetch(tf.data.AUTOTUNE)


def from_config(
    input_config,
    split: str,
    *,
    batch_size: int,
    training: bool = False,
    **options,
) -> tf.data.Dataset:
    """`make_dataset` with the data, frames and size of a config's `input`.

    Args:
        input_config: An experiment config's `input` section.
        split: Split name.
        batch_size: Global batch size.
        training: Training behaviour, which also takes the section's
            sampling, shuffle buffer and augmentation.
        **options: Other `make_dataset` arguments (seed, input_context).
    """
    if training:
        options = dict(
            sampling=input_config.sampling,
            shuffle_buffer=input_config.shuffle_buffer,
            augment=input_config.augment,
            flip=input_config.flip,
            **options,
        )
    return make_dataset(
        input_config.data_dir,
        split,
        num_frames=input_config.num_frames,
        image_size=input_config.image_size,
        batch_size=batch_size,
        training=training,
        **options,
    )


def _records(data_dir, split, training, pipelines, pipeline_id, seed):
    """The serialized clips of this pipeline's share of the split: shards
    split over the pipelines where there are enough, else clips."""
    pattern = tfrecord.shard_pattern(data_dir, split)
    paths = sorted(tf.io.gfile.glob(pattern))
    if not paths:
        raise errors.InputError(f"No TFRecord shards match {pattern}.")
    shard_files = len(paths) >= pipelines
    # Clip-level sharding needs the same clip order in every pipeline.
    ordered = not training or not shard_files
    dataset = tf.data.Dataset.from_tensor_slices(paths)
    if shard_files:
        dataset = dataset.shard(pipelines, pipeline_id)
    if training:
        dataset = dataset.shuffle(len(paths), seed=seed).repeat()
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(paths), _MAX_CYCLE),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=ordered,
    )
    if not shard_files:
        dataset = dataset.shard(pipelines, pipeline_id)
    return dataset


def _check_args(num_frames, sampling):
    """Raises `errors.InputError` for a bad `num_frames` or `sampling`."""
    if num_frames < 1:
        raise errors.InputError(f"num_frames must be >= 1, got {num_frames}.")
    if sampling not in video_ops.SAMPLING_MODES:
        raise errors.InputError(
            f"Unknown sampling {sampling!r}; "
            f"known: {list(video_ops.SAMPLING_MODES)}."
        )


def _layout(input_context, batch_size):
    """Returns (input pipelines, this pipeline's id, replicas in sync).

    Raises:
        errors.InputError: `batch_size`, the global batch, does not split
            evenly over the replicas.
    """
    pipelines, pipeline_id, replicas = 1, 0, 1
    if input_context is not None:
        pipelines = input_context.num_input_pipelines
        pipeline_id = input_context.input_pipeline_id
        replicas = input_context.num_replicas_in_sync
    if batch_size < 1 or batch_size % replicas:
        raise errors.InputError(
            f"Batch size {batch_size} does not split over {replicas} replicas."
        )
    return pipelines, pipeline_id, replicas


def _decode_clips(
    dataset,
    seed,
    training,
    num_frames,
    image_size,
    sampling,
    augment,
    flip,
    flip_labels,
    reduced_decode,
):
    """Maps serialized clips to unbatched elements, in parallel.

    Evaluation keeps the clips' order, samples `uniform`ly and crops the
    centre whatever `sampling`, `augment` and `flip` say; training takes
    them (`flip` only with `augment`) and yields clips as they are ready.

    Args:
        dataset: Serialized `tf.train.SequenceExample`s.
        seed: Seed of the per-clip seeds.
        training: Training or evaluation behaviour.
        num_frames, image_size, sampling, augment, flip, flip_labels,
            reduced_decode: As in `make_dataset`.

    Returns:
        The dataset of elements (see the module docstring), one per clip.
    """
    # One stateless seed pair per clip keeps augmentation reproducible under
    # parallel map.
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    augment = training and augment
    return tf.data.Dataset.zip(dataset, seeds).map(
        lambda serialized, clip_seed: _decode_clip(
            serialized,
            clip_seed,
            num_frames=num_frames,
            image_size=image_size,
            sampling=sampling if training else "uniform",
            augment=augment,
            flip=augment and flip,
            flip_labels=flip_labels,
            reduced_decode=reduced_decode,
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not training,
    )


def _decode_clip(
    serialized,
    seed,
    *,
    num_frames,
    image_size,
    sampling,
    augment,
    flip,
    flip_labels,
    reduced_decode,
):
    """Parses one clip and returns its sampled, cropped, decoded frames.

    Args:
        serialized: Scalar string, one `tf.train.SequenceExample`.
        seed: `(2,)` int64 stateless seed of the clip's random choices.
        num_frames, image_size, sampling, flip_labels, reduced_decode: As
            in `make_dataset`.
        augment: Whether to crop at random instead of the centre.
        flip: Whether to mirror the clip with probability 1/2.

    Returns:
        One element as the module docstring lists, without the batch axis.
    """
    example = tfrecord.parse_example(serialized)
    sample_seed, crop_seed, flip_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3)
    )
    stored = tf.shape(example["frames_encoded"])[0]
    indices = video_ops.sample_indices(
        stored, num_frames, sampling, sample_seed
    )
    # Decoding only the sampled JPEGs is the pipeline's main saving.
    video, boxes, box_valid = _resize_and_crop(
        tf.gather(example["frames_encoded"], indices),
        tf.gather(example["boxes"], indices),
        tf.gather(example["box_valid"], indices),
        image_size,
        crop_seed if augment else None,
        reduced_decode,
    )
    label = example["label"]
    if flip:
        video, boxes, label = _random_flip(
            video, boxes, box_valid, label, flip_labels, flip_seed
        )
    start, end = example["event_start"], example["event_end"]
    return {
        "frames": tf.ensure_shape(video, [num_frames, None, None, 3]),
        "label": label,
        "id": example["id"],
        "frame_indices": indices,
        "event": tf.cast((indices >= start) & (indices < end), tf.float32),
        "has_ground_truth": start >= 0,
        "boxes": boxes,
        "box_valid": box_valid,
    }


def _resize_and_crop(
    encoded, boxes, box_valid, image_size, crop_seed, reduced_decode
):
    """Decodes a clip, resizes its short side to cover `image_size` and
    crops it.

    The crop window is chosen in the frames resized from their stored size,
    however they are decoded, so both ways give the same window.

    Args:
        encoded: `(T,)` JPEGs of one size.
        boxes: `(T, MAX_OBJECTS, 4)` boxes normalised to the frame.
        box_valid: `(T, MAX_OBJECTS)` bool.
        image_size: Output size, int or (height, width).
        crop_seed: Stateless seed of a random crop, or None for the centre.
        reduced_decode: Decode at the smallest DCT scale that covers the
            resized frames and resample for the crop only; else decode at
            full size, resize whole frames, then crop.

    Returns:
        The `(T, H, W, 3)` float32 frames, and the boxes and their validity
        renormalised to the crop (boxes outside it are no longer valid).
    """
    stored = tf.io.extract_jpeg_shape(encoded[0])[:2]
    frame_size = video_ops.resized_size(stored, image_size)
    if crop_seed is not None:
        offset = video_ops.random_crop_offset(frame_size, image_size, crop_seed)
    else:
        offset = video_ops.center_crop_offset(frame_size, image_size)
    if reduced_decode:
        video = crop_decode.decode_crop(encoded, frame_size, offset, image_size)
    else:
        video = tfrecord.decode_frames(encoded)
        video = video_ops.resize_short_side(video, image_size)
        video = video_ops.crop(video, offset, image_size)
    boxes, box_valid = video_ops.crop_boxes(
        boxes, box_valid, frame_size, offset, image_size
    )
    return video, boxes, box_valid


def _random_flip(video, boxes, box_valid, label, flip_labels, seed):
    """Mirrors a clip left-right with probability 1/2, from `seed`.

    Its boxes are mirrored with it and, given `flip_labels`, its label
    becomes `flip_labels[label]`, since left and right swap.

    Returns:
        The `(T, H, W, 3)` frames, `(T, MAX_OBJECTS, 4)` boxes and label.
    """
    mirror = tf.random.stateless_uniform([], seed) < 0.5
    video = tf.cond(
        mirror, lambda: video_ops.flip_left_right(video), lambda: video
    )
    boxes = tf.where(
        mirror, video_ops.flip_boxes_left_right(boxes, box_valid), boxes
    )
    if flip_labels is not None:
        mirrored = tf.gather(tf.constant(flip_labels, tf.int32), label)
        label = tf.where(mirror, mirrored, label)
    return video, boxes, label
