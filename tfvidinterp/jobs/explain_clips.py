"""The clips `explain.run` explains, read lazily as numpy dicts in
evaluation order: a dataset split's (all, or those of some ids), one video
file's, or those of many video files (`tfvidinterp.data.video_files`),
prepared as the pipeline prepares clips; this worker's shard of them
(clip i of the selection goes to shard `i % num_shards`). Video files that
do not decode are left out, reported and listed in `rejected.txt`.
"""

import itertools
import os

import numpy as np
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import pipeline
from tfvidinterp.data import sources
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_files
from tfvidinterp.data import video_io
from tfvidinterp.data import video_ops
from tfvidinterp.jobs import resultsdir


def _check_ids(config, split, ids):
    """`ids` as a set, after checking that the split has each of them."""
    wanted = set(ids)
    pattern = tfrecord.shard_pattern(config.input.data_dir, split)
    paths = sorted(tf.io.gfile.glob(pattern))
    if not paths:
        raise errors.InputError(f"No TFRecord shards match {pattern}.")
    # Parsing without decoding frames reads a split's ids quickly.
    parsed = tf.data.TFRecordDataset(paths).map(
        lambda serialized: tfrecord.parse_example(serialized)["id"],
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    known = {clip_id.decode() for clip_id in parsed.as_numpy_iterator()}
    unknown = sorted(wanted - known)
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise errors.InputError(
            f"split {split!r} has no clip {', '.join(unknown[:3])}{more}"
        )
    return wanted


def _source(config, info, split, ids, video, max_clips, shard):
    """`(clips, count)`: this shard's clips among the first `max_clips`
    selected (clip i goes to shard `i % num_shards`), numpy dicts in
    evaluation order read lazily, and their number (None if unknown). A
    missing split, unknown ids or a bad video raise now."""
    if video is not None:
        clips = [
            _video_clip(video, config.input.num_frames, config.input.image_size)
        ]
        total = 1
    else:
        wanted = None if ids is None else _check_ids(config, split, ids)
        dataset = pipeline.from_config(
            config.input, split, batch_size=config.interp.batch_size
        )
        clips = _unbatch(dataset, wanted)
        total = (
            info["splits"].get(split, {}).get("num_clips")
            if wanted is None
            else len(wanted)
        )
    index, num_shards = shard
    clips = itertools.islice(clips, index, max_clips, num_shards)
    if total is None:
        return clips, None
    return clips, len(range(index, min(total, max_clips or total), num_shards))


def _unbatch(dataset, wanted):
    """The dataset's clips, or those in `wanted`, one by one, as numpy."""
    found = 0
    for batch in dataset.as_numpy_iterator():
        for i in range(len(batch["id"])):
            clip = {key: value[i] for key, value in batch.items()}
            clip["id"] = clip["id"].decode()
            if wanted is not None and clip["id"] not in wanted:
                continue
            yield clip
            found += 1
            if wanted is not None and found == len(wanted):
                return  # Every wanted clip is found: read no further.


def _video_clip(path, num_frames, image_size):
    """One clip of a video file, prepared as the pipeline prepares clips."""
    # Decoding keeps only the frames `sample_indices` takes (the middle of
    # each of `num_frames` segments, as `max_frames` does; a shorter video
    # keeps all and repeats them below), resized while decoding, so memory
    # does not grow with the video's length; the short side still covers
    # the crop, so the pipeline's resize and crop below decide the input.
    frames = video_io.decode(
        path, max_frames=num_frames, short_side=int(np.max(image_size))
    )
    video = tf.gather(frames, video_ops.sample_indices(len(frames), num_frames))
    video = video_ops.resize_short_side(video, image_size)
    video = video_ops.center_crop(video, image_size)
    # The real path: two videos of the same file name are two clips.
    return {
        "id": os.path.realpath(path),
        "frames": video.numpy(),
        "label": None,
        "has_ground_truth": False,
    }


def select(config, classes, info, selection, options):
    """`(clips, count, rejected)` of a `(split, ids, video, videos)`
    selection with `(max_clips, shard, output_dir)` `options`: `rejected`
    fills as `videos` are decoded."""
    split, ids, video, videos = selection
    max_clips, shard, output_dir = options
    rejected = []
    if videos is None:
        clips, count = _source(
            config, info, split, ids, video, max_clips, shard
        )
    else:
        clips, count = _video_files_source(
            config,
            classes or info["classes"],
            videos,
            max_clips,
            shard,
            output_dir,
            rejected,
        )
    return clips, count, rejected


def _video_files_source(config, classes, spec, max_clips, shard, out, rejected):
    """`(clips, count)` of the files `spec` names, as `_source` selects a
    split's: listed and labelled now (bad input raises), decoded lazily;
    those not yet in the results of `out` (a results directory) only. A
    file that does not decode is appended to `rejected` (its clip: a
    stub, `_decoded_videos`)."""
    videos = video_files.list_videos(spec)
    labels = _video_labels(videos, classes, config.interp.target)
    index, num_shards = shard
    videos = videos[index:max_clips:num_shards]
    clips = _decoded_videos(videos, labels, config.input, out, shard, rejected)
    return clips, len(videos)


def _video_labels(videos, classes, target):
    """`{id: class index or None}` of `VideoFile`s labelled by class name."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted({v.label for v in videos if v.label not in (None, *index)})
    if unknown:
        raise errors.InputError(
            f"labels not among the model's classes: {', '.join(unknown[:3])}"
            f"; known: {', '.join(classes)}"
        )
    unlabelled = [v.path for v in videos if v.label is None]
    if unlabelled and target == "true":
        raise errors.InputError(
            "interp.target 'true' needs a label for every video; "
            f"{len(unlabelled)} have none, e.g. {unlabelled[0]}"
        )
    return {v.id: None if v.label is None else index[v.label] for v in videos}


def _decoded_videos(videos, labels, input_config, output_dir, shard, rejected):
    """The clips of `videos`; one already explained is a stub of its id,
    not decoded again; one that fails, a stub with its `rejected` reason.
    The files that fail are written out at the end."""
    done = resultsdir.resume(output_dir, *shard)[2]
    for video in videos:
        if video.id in done:
            yield {"id": video.id}
            continue
        try:
            clip = _video_clip(
                video.path, input_config.num_frames, input_config.image_size
            )
        # Any fault of one file (FFmpeg's, a shape, memory) skips that file
        # alone: the others still get explained.
        except Exception as error:
            reason = getattr(error, "reason", None) or (
                f"{type(error).__name__}: {error}"
            )
            logging.warning("Skipping %s: %s", video.path, reason)
            rejected.append(
                {"id": video.id, "path": video.path, "reason": reason}
            )
            yield {"id": video.id, "rejected": reason}
            continue
        yield {**clip, "id": video.id, "label": labels[video.id]}
    _write_rejected(output_dir, shard, rejected)


def _write_rejected(output_dir, shard, rejected):
    """Writes a run's rejected videos, `<path>\t<reason>` a line, to
    `rejected.txt` (`rejected-<k>-of-<n>.txt` for a shard); without any,
    removes an older run's."""
    lines = "".join(
        f"{sources.printable(r['path'])}\t{r['reason']}\n" for r in rejected
    )
    path = rejected_path(output_dir, shard)
    if rejected:
        files.write_atomic(path, lines)
    elif os.path.exists(path):
        os.remove(path)


def rejected_path(output_dir, shard):
    """`rejected.txt` of `output_dir`, or `rejected-<k>-of-<n>.txt` for
    shard k of n > 1."""
    index, count = shard
    name = f"rejected-{index}-of-{count}.txt" if count > 1 else "rejected.txt"
    return os.path.join(output_dir, name)
