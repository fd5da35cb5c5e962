"""The tf.data input pipeline over the TFRecord shards of a prepared split.

Shards are listed, sharded per input pipeline, interleaved and parsed; T
frame indices are chosen, only those JPEGs are decoded, and the clip is
resized (short side), cropped and batched per replica.
"""

import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.data import tfrecord, video_ops

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
) -> tf.data.Dataset:
    """Builds the dataset of one split.

    Training shuffles shard files and clips, repeats forever and drops the
    last partial batch; evaluation reads every clip once in a fixed order,
    always samples `uniform`ly and crops the centre.

    Args:
        data_dir: Directory of `<split>-NNNNN-of-NNNNN.tfrecord` shards.
        split: Split name, e.g. "train".
        num_frames: T, frames sampled per clip.
        image_size: Output frame size, int (square) or (height, width). The
            short side is resized to cover it, then it is cropped.
        batch_size: GLOBAL batch size; with `input_context` each pipeline
            batches its per-replica share.
        training: Training or evaluation behaviour (see above).
        sampling: "uniform" or "segment" (random frame per segment), the
            latter only when training.
        shuffle_buffer: Clips in the training shuffle buffer.
        seed: Seed of shuffling and augmentation.
        input_context: A `tf.distribute.InputContext`, e.g. from
            `strategy.distribute_datasets_from_function`. Shards files per
            pipeline, or clips when there are fewer files than pipelines.
        augment: When training, crop at random instead of the centre.
        flip: When training with `augment`, also mirror half of the clips.
            Off by default: mirroring changes left/right classes.
        flip_labels: With `flip`, optional sequence giving each label's
            label after mirroring (left/right classes swapped).

    Returns:
        A dataset of dicts: `frames` (B, T, H, W, 3) float32 RGB in
        [0, 255]; `label` (B,) int32; `id` (B,) string; `frame_indices`
        (B, T) int32 indices of the stored frames; `event` (B, T) float32,
        1 where the frame lies in the ground-truth window; `has_ground_truth`
        (B,) bool; `boxes` (B, T, MAX_OBJECTS, 4) float32 normalised to the
        output frame; `box_valid` (B, T, MAX_OBJECTS) bool.

    Raises:
        errors.InputError: No shards for the split, num_frames < 1, an
            unknown sampling, or a batch that does not split evenly over the
            replicas.
    """
    if num_frames < 1:
        raise errors.InputError(f"num_frames must be >= 1, got {num_frames}.")
    if sampling not in video_ops.SAMPLING_MODES:
        raise errors.InputError(
            f"Unknown sampling {sampling!r}; "
            f"known: {list(video_ops.SAMPLING_MODES)}."
        )
    pattern = tfrecord.shard_pattern(data_dir, split)
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise errors.InputError(f"No TFRecord shards match {pattern}.")
    pipelines, pipeline_id, replicas = 1, 0, 1
    if input_context is not None:
        pipelines = input_context.num_input_pipelines
        pipeline_id = input_context.input_pipeline_id
        replicas = input_context.num_replicas_in_sync
    if batch_size < 1 or batch_size % replicas:
        raise errors.InputError(
            f"Batch size {batch_size} does not split over {replicas} replicas."
        )
    shard_files = len(files) >= pipelines
    # Clip-level sharding needs the same clip order in every pipeline.
    ordered = not training or not shard_files

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shard_files:
        dataset = dataset.shard(pipelines, pipeline_id)
    if training:
        dataset = dataset.shuffle(len(files), seed=seed).repeat()
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), _MAX_CYCLE),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=ordered,
    )
    if not shard_files:
        dataset = dataset.shard(pipelines, pipeline_id)
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed + pipeline_id)
    # One stateless seed pair per clip keeps augmentation reproducible under
    # parallel map.
    seeds = tf.data.Dataset.random(seed=seed + pipeline_id).batch(2)
    augment = training and augment
    dataset = tf.data.Dataset.zip(dataset, seeds).map(
        lambda serialized, clip_seed: _decode_clip(
            serialized,
            clip_seed,
            num_frames=num_frames,
            image_size=image_size,
            sampling=sampling if training else "uniform",
            augment=augment,
            flip=augment and flip,
            flip_labels=flip_labels,
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not training,
    )
    dataset = dataset.batch(batch_size // replicas, drop_remainder=training)
    return dataset.prefetch(tf.data.AUTOTUNE)


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
):
    """Parses one clip and returns its sampled, cropped, decoded frames."""
    example = tfrecord.parse_example(serialized)
    sample_seed, crop_seed, flip_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3)
    )
    stored = tf.shape(example["frames_encoded"])[0]
    indices = video_ops.sample_indices(
        stored, num_frames, sampling, sample_seed
    )
    # Decoding only the sampled JPEGs is the pipeline's main saving.
    video = tfrecord.decode_frames(
        tf.gather(example["frames_encoded"], indices)
    )
    video = video_ops.resize_short_side(video, image_size)
    frame_size = tf.shape(video)[1:3]
    if augment:
        offset = video_ops.random_crop_offset(frame_size, image_size, crop_seed)
    else:
        offset = video_ops.center_crop_offset(frame_size, image_size)
    video = video_ops.crop(video, offset, image_size)
    boxes, box_valid = video_ops.crop_boxes(
        tf.gather(example["boxes"], indices),
        tf.gather(example["box_valid"], indices),
        frame_size,
        offset,
        image_size,
    )
    label = example["label"]
    if flip:
        mirror = tf.random.stateless_uniform([], flip_seed) < 0.5
        video = tf.cond(
            mirror, lambda: video_ops.flip_left_right(video), lambda: video
        )
        boxes = tf.where(
            mirror, video_ops.flip_boxes_left_right(boxes, box_valid), boxes
        )
        if flip_labels is not None:
            mirrored = tf.gather(tf.constant(flip_labels, tf.int32), label)
            label = tf.where(mirror, mirrored, label)
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
