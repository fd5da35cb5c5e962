"""Explains a trained model clip by clip: Grad-CAM maps and temporal masks.

`run` explains the clips of a dataset split (or some of them, or one video
file) in batches, and writes each clip's results as it finishes (the results
schema of the README, read by `tfvidinterp.compare`):

* `<dir>/meta.json`: the run, model, dataset, classes, split and parameters;
* `<dir>/gradcam/<id>.npz`: `heatmaps` (T, H, W) float16 in [0, 1] and the
  model's input `frames` (T, H, W, 3) uint8;
* `<dir>/results.jsonl`: one JSON line per clip, appended and synced after
  each batch. A killed run resumes without redoing or duplicating clips.

Several workers split the clips round-robin: clip i of the selection goes to
shard `i % num_shards`, which writes `results-<k>-of-<n>.jsonl` and, when it
has finished, `results-<k>-of-<n>.done`. `merge_shards` then gathers every
shard into `results.jsonl`.
"""

import io
import json
import os
import re
import time

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp import train
from tfvidinterp import workdir as wd
from tfvidinterp.data import pipeline
from tfvidinterp.data import tfrecord
from tfvidinterp.data import video_io
from tfvidinterp.data import video_ops
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import temporal_mask

RESULTS = "results.jsonl"
META = "meta.json"
GRADCAM = "gradcam"
TARGETS = ("predicted", "true")
_SHARD_FILE = re.compile(r"results-(\d+)-of-(\d+)\.jsonl")


def run(
    config,
    workdir: str,
    *,
    split: str | None = None,
    ids=None,
    video: str | None = None,
    output_dir: str | None = None,
    shard_index: int | None = None,
    num_shards: int | None = None,
    max_clips: int | None = None,
) -> dict:
    """Explains clips with `config.interp`'s Grad-CAM and temporal mask.

    The clips are those of `split` in the evaluation order, restricted to
    `ids`, the first `max_clips` of them, then this shard's share; or the one
    clip of `video`, uniformly sampled to `config.input.num_frames` frames,
    short side resized and centre-cropped to `config.input.image_size`.

    Args:
        config: The experiment config the model was trained with.
        workdir: The training run's directory (its latest checkpoint).
        split: Dataset split; default `config.interp.split`, else
            `config.eval.split`.
        ids: Clip ids to explain (an iterable of str); None: all.
        video: A video file to explain instead of a split (no label).
        output_dir: Results directory; default `<workdir>/explain/<split>`,
            or `<workdir>/explain/video`.
        shard_index: This worker's shard, with `num_shards`; default from
            `TF_CONFIG` (chief and workers, in that order), else 0 of 1.
        num_shards: Number of workers sharing the clips.
        max_clips: Explain at most the first `max_clips` selected clips.

    Returns:
        A summary: `output_dir`, `results_file`, `shard` ([k, n]), `clips`
        (explained now), `skipped` (already in the results), `seconds`, and
        `merged` (whether `results.jsonl` received shard results).

    Raises:
        errors.InputError: A bad option, no checkpoint, an unknown or
            time-less Grad-CAM layer, a corrupt video, unknown ids, or an
            output directory holding results of other parameters.
    """
    start = time.time()
    interp = config.interp
    if interp.target not in TARGETS:
        raise errors.InputError(
            f"unknown interp.target {interp.target!r}; known: {TARGETS}")
    if video is not None and (split is not None or ids is not None):
        raise errors.InputError("give a video or a split and ids, not both")
    if max_clips is not None and max_clips < 1:
        raise errors.InputError(f"max_clips must be >= 1, got {max_clips}")
    if video is not None and interp.target == "true":
        raise errors.InputError(
            "interp.target 'true' needs labels; a video file has none")
    shard_index, num_shards = _shard(shard_index, num_shards)
    if video is None:
        split = split or interp.split or config.eval.split
    # Bad input fails here, before the model is built.
    clips, total = _source(config, split, ids, video)
    model, info = train.load_model(config, workdir)
    cam = _grad_cam(model, interp)
    masker = temporal_mask.TemporalMaskExplainer(
        model, interp.perturbation, lambda1=interp.lambda1,
        lambda2=interp.lambda2, beta=interp.beta,
        iterations=interp.iterations, learning_rate=interp.learning_rate,
        init=interp.init, early_stopping=interp.early_stopping)
    output_dir = output_dir or wd.path(workdir, wd.EXPLAIN, split or "video")
    meta = {
        "run": os.path.basename(os.path.normpath(workdir)),
        "model_name": config.model_name,
        "dataset": info.get("source"),
        "classes": info["classes"],
        "split": split,
        "params": _params(cam, masker, interp.target),
    }
    _write_meta(output_dir, meta)
    if total is None:
        total = info["splits"].get(split, {}).get("num_clips")
    if total is not None and max_clips is not None:
        total = min(total, max_clips)
    sharded = num_shards > 1
    name = f"results-{shard_index}-of-{num_shards}" if sharded else "results"
    results_file = os.path.join(output_dir, name + ".jsonl")
    marker = os.path.join(output_dir, name + ".done")
    done = _done_ids(results_file)
    if sharded:
        done |= _done_ids(os.path.join(output_dir, RESULTS))
        if os.path.exists(marker):
            os.remove(marker)

    progress = keras.utils.Progbar(
        None if total is None else len(range(shard_index, total, num_shards)),
        unit_name="clip")
    explained = skipped = 0
    batch = []
    with open(results_file, "a") as results:

        def flush():
            _explain_batch(batch, cam, masker, meta, output_dir, results)
            progress.add(len(batch))
            batch.clear()

        for clip in _assigned(clips, max_clips, shard_index, num_shards):
            if clip["id"] in done:
                skipped += 1
                progress.add(1)
                continue
            done.add(clip["id"])
            batch.append(clip)
            explained += 1
            if len(batch) == interp.batch_size:
                flush()
        if batch:
            flush()
    if sharded:
        wd.write_json(marker, {"clips": explained, "skipped": skipped})
    return {
        "output_dir": output_dir,
        "results_file": results_file,
        "shard": [shard_index, num_shards],
        "clips": explained,
        "skipped": skipped,
        "seconds": round(time.time() - start, 1),
        "merged": merge_shards(output_dir),
    }


def merge_shards(output_dir: str) -> bool:
    """Gathers the results of finished shards into `results.jsonl`.

    When every shard `k` of some `n` has its `results-<k>-of-<n>.done`
    marker, the records of their `results-<k>-of-<n>.jsonl` whose ids
    `results.jsonl` lacks are added to it, in the evaluation order (shard
    files interleaved round-robin); existing lines are kept as they are.
    Merging again adds nothing, so every run calls it at its end and the
    last shard to finish does the merge. The shard files are kept: a shard
    re-run resumes from its own file.

    Args:
        output_dir: A results directory.

    Returns:
        Whether `results.jsonl` was rewritten.

    Raises:
        errors.InputError: `output_dir` is not a directory.
    """
    if not os.path.isdir(output_dir):
        raise errors.InputError(f"no results directory {output_dir}")
    groups = {}
    for name in os.listdir(output_dir):
        match = _SHARD_FILE.fullmatch(name)
        if match:
            groups.setdefault(int(match[2]), set()).add(int(match[1]))
    path = os.path.join(output_dir, RESULTS)
    lines = _complete_lines(path)
    seen = {json.loads(line)["id"] for line in lines}
    added = False
    for count, shards in sorted(groups.items()):
        names = [f"results-{k}-of-{count}" for k in range(count)]
        if shards != set(range(count)) or not all(
            os.path.exists(os.path.join(output_dir, n + ".done"))
            for n in names
        ):
            continue
        shard_lines = [_complete_lines(os.path.join(output_dir, n + ".jsonl"))
                       for n in names]
        for row in range(max(map(len, shard_lines))):
            for rows in shard_lines:
                if row < len(rows):
                    clip_id = json.loads(rows[row])["id"]
                    if clip_id not in seen:
                        seen.add(clip_id)
                        lines.append(rows[row])
                        added = True
    if added:
        wd.write_atomic(path, "".join(lines))
    return added


def read_ids(value: str) -> list[str]:
    """Clip ids from a comma-separated list, or a file with one id a line.

    Raises:
        errors.InputError: No ids.
    """
    if os.path.isfile(value):
        with open(value) as f:
            ids = [line.strip() for line in f]
    else:
        ids = [part.strip() for part in value.split(",")]
    ids = [i for i in ids if i]
    if not ids:
        raise errors.InputError(f"no clip ids in {value!r}")
    return ids


def explainer_endpoint(model: keras.Model, config):
    """The `explain` endpoint of the explainer SavedModel (`binaries.export`).

    Args:
        model: The trained classifier.
        config: Its experiment config; `config.interp` gives the Grad-CAM
            layer and options.

    Returns:
        A function of float32 frames `(batch, T, H, W, 3)` in [0, 255]
        returning `logits` and `probabilities` `(batch, classes)`,
        `heatmaps` `(batch, T, H, W)` in [0, 1] for the predicted class and
        that class, `class_ids` `(batch,)` int32.

    Raises:
        errors.InputError: An unknown or time-less Grad-CAM layer.
    """
    cam = _grad_cam(model, config.interp)

    def explain(frames):
        predicted = tf.fill(tf.shape(frames)[:1], -1)
        out = cam.explain_in_graph(frames, predicted)
        return {
            "logits": out["logits"],
            "probabilities": tf.nn.softmax(out["logits"]),
            "heatmaps": out["heatmaps"],
            "class_ids": out["class_ids"],
        }

    return explain


def safe_id(clip_id: str) -> str:
    """`clip_id` as a file name: characters outside [A-Za-z0-9._-] -> "_"."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", clip_id)


def _grad_cam(model, interp):
    return grad_cam.GradCAM(
        model, interp.layer or None, weighting=interp.weighting,
        score=interp.score, upsample=interp.upsample,
        normalize=interp.normalize)


def _shard(shard_index, num_shards):
    if shard_index is None and num_shards is None:
        try:
            cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get(
                "cluster", {})
        except ValueError:
            raise errors.InputError("TF_CONFIG is not JSON") from None
        chiefs = len(cluster.get("chief", []))
        workers = chiefs + len(cluster.get("worker", []))
        if workers < 2:
            return 0, 1
        task_type, index = distribute.task()
        if task_type not in ("chief", "worker"):
            raise errors.InputError(
                f"TF_CONFIG task {task_type!r} is neither chief nor worker")
        return index + (chiefs if task_type == "worker" else 0), workers
    if shard_index is None or num_shards is None:
        raise errors.InputError("give both shard_index and num_shards")
    if not 0 <= shard_index < num_shards:
        raise errors.InputError(
            f"shard_index {shard_index} is not in [0, {num_shards})")
    return shard_index, num_shards


def _params(cam, masker, target):
    """Every parameter an explanation depends on, as stored with it."""
    names = ("perturbation", "lambda1", "lambda2", "beta", "iterations",
             "learning_rate", "init", "constant_logit", "early_stopping",
             "tol", "patience")
    return {
        "layer": cam.layer, "weighting": cam.weighting, "score": cam.score,
        "upsample": cam.upsample, "normalize": cam.normalize,
        **{name: getattr(masker, name) for name in names},
        "target": target,
    }


def _write_meta(output_dir, meta):
    path = os.path.join(output_dir, META)
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        # JSON has no tuples: compare as JSON would store them.
        new = json.loads(json.dumps(meta))
        changed = [k for k in new if k != "run" and old.get(k) != new[k]]
        if changed:
            raise errors.InputError(
                f"{output_dir} holds results made with another "
                f"{', '.join(changed)}; choose another output_dir")
    wd.write_json(path, meta)


def _check_ids(config, split, ids):
    """`ids` as a set, after checking that the split has each of them."""
    wanted = set(ids)
    pattern = tfrecord.shard_pattern(config.input.data_dir, split)
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise errors.InputError(f"No TFRecord shards match {pattern}.")
    # Parsing without decoding frames reads a split's ids quickly.
    parsed = tf.data.TFRecordDataset(files).map(
        lambda serialized: tfrecord.parse_example(serialized)["id"],
        num_parallel_calls=tf.data.AUTOTUNE)
    known = {clip_id.decode() for clip_id in parsed.as_numpy_iterator()}
    unknown = sorted(wanted - known)
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise errors.InputError(
            f"split {split!r} has no clip {', '.join(unknown[:3])}{more}")
    return wanted


def _source(config, split, ids, video):
    """`(clips, count)`: the clips, numpy dicts in evaluation order, read
    lazily, and their number (None: the whole split). A missing split,
    unknown ids or a bad video raise now."""
    if video is not None:
        return [_video_clip(video, config.input.num_frames,
                            config.input.image_size)], 1
    wanted = None if ids is None else _check_ids(config, split, ids)
    dataset = pipeline.make_dataset(
        config.input.data_dir, split, num_frames=config.input.num_frames,
        image_size=config.input.image_size,
        batch_size=config.interp.batch_size, training=False)
    clips = _unbatch(dataset, wanted)
    return clips, None if wanted is None else len(wanted)


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
    height, width = (
        (image_size, image_size) if isinstance(image_size, int)
        else image_size)
    # Resizing while decoding keeps a long video's frames small in memory;
    # the short side still covers the crop, so the pipeline's resize and
    # crop below decide the input.
    frames = video_io.decode(path, short_side=max(height, width))
    video = tf.gather(frames, video_ops.sample_indices(len(frames),
                                                       num_frames))
    video = video_ops.resize_short_side(video, image_size)
    video = video_ops.center_crop(video, image_size)
    return {"id": os.path.basename(path), "frames": video.numpy(),
            "label": None, "has_ground_truth": False}


def _assigned(clips, max_clips, shard_index, num_shards):
    """This shard's clips among the first `max_clips`: i % num_shards."""
    for position, clip in enumerate(clips):
        if position == max_clips:
            return
        if position % num_shards == shard_index:
            yield clip


def _explain_batch(batch, cam, masker, meta, output_dir, results):
    """Explains `batch`, writes its maps, then appends and syncs its lines."""
    frames = np.stack([clip["frames"] for clip in batch])
    labels = [None if clip["label"] is None else int(clip["label"])
              for clip in batch]
    class_ids = labels if meta["params"]["target"] == "true" else None
    maps = cam.explain(frames, class_ids)
    targets = maps["class_ids"].numpy()
    masks = masker(frames, targets)
    probabilities = tf.nn.softmax(maps["logits"]).numpy()
    heatmaps = maps["heatmaps"].numpy().astype(np.float16)
    pixels = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    lines = []
    for i, clip in enumerate(batch):
        file = f"{GRADCAM}/{safe_id(clip['id'])}.npz"
        buffer = io.BytesIO()
        np.savez_compressed(buffer, heatmaps=heatmaps[i], frames=pixels[i])
        wd.write_atomic(os.path.join(output_dir, file), buffer.getvalue(),
                        "wb")
        label = labels[i]
        record = {
            "id": clip["id"],
            "split": meta["split"],
            "model_name": meta["model_name"],
            "run": meta["run"],
            "dataset": meta["dataset"],
            "label": label,
            "predicted_class": int(np.argmax(probabilities[i])),
            "target_class": int(targets[i]),
            "original_score": float(masks["original_score"][i]),
            "true_class_score": (None if label is None
                                 else float(probabilities[i][label])),
            "gradcam": {"file": file, "layer": cam.layer,
                        "weighting": cam.weighting, "score": cam.score,
                        "class_id": int(targets[i])},
            "mask": _mask_record(masks, i, masker.perturbation),
            "ground_truth": _ground_truth(clip),
            "params": meta["params"],
        }
        lines.append(json.dumps(record) + "\n")
    results.write("".join(lines))
    results.flush()
    os.fsync(results.fileno())


def _mask_record(masks, i, perturbation):
    keys = ("mask", "binary_mask", "mask_length", "freeze_score",
            "reverse_score", "freeze_prediction", "reverse_prediction",
            "loss_curve", "steps_run", "initial_mask")
    # `tolist` turns NumPy arrays and scalars into plain JSON values.
    record = {key: masks[key][i].tolist() for key in keys}
    record["binary_mask"] = masks["binary_mask"][i].astype(int).tolist()
    return {"perturbation": perturbation, **record}


def _ground_truth(clip):
    if not clip["has_ground_truth"]:
        return None
    return {"event": clip["event"].astype(int).tolist(),
            "boxes": clip["boxes"].tolist(),
            "box_valid": clip["box_valid"].tolist()}


def _complete_lines(path):
    """The `\\n`-ended lines of a results file; [] if there is none."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f if line.endswith("\n")]


def _done_ids(path):
    """Ids in a results file, after cutting a last line a kill left partial.

    Raises:
        errors.InputError: A complete line that is not a results record.
    """
    if not os.path.exists(path):
        return set()
    with open(path, "rb+") as f:
        data = f.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            f.truncate(end)
    ids = set()
    for number, line in enumerate(data[:end].splitlines(), 1):
        try:
            ids.add(json.loads(line)["id"])
        except (ValueError, KeyError, TypeError):
            raise errors.InputError(
                f"{path} line {number} is not a results record") from None
    return ids
