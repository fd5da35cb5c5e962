"""Explains a trained model clip by clip: Grad-CAM maps and temporal masks.

`run` explains the clips of a dataset split (or some of them, one video
file, or many: `tfvidinterp.data.video_files`) in batches, and writes each
batch's results into a results directory as it finishes
(`tfvidinterp.jobs.resultsdir`, which compare reads). Several workers split
the clips round-robin: clip i of the selection goes to shard
`i % num_shards`.
"""

import functools
import itertools
import json
import os
import time

import keras
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
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import temporal_mask
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import resultsdir
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train

TARGETS = ("predicted", "true")


class Explainer:
    """A trained model with its Grad-CAM and mask explainer, built with a
    config's `interp` options once and shared by every split, video and
    perturbation it explains: one compiled Grad-CAM, one traced mask
    optimiser.

    Args:
        model: The trained classifier.
        interp: A config's `interp` options.
        step: The training step of the model's checkpoint, recorded with
            the results (None: unknown, or a model file).
        classes: The model's class names (None: the dataset's).
        dataset: The `source` of the model's training data, recorded for a
            video file (None: unknown).
        name: The run's or model file's name, recorded with the results
            (None: the workdir's).

    Raises:
        errors.InputError: An unknown or time-less Grad-CAM layer, or a
            mask option that would give NaN masks.
    """

    def __init__(
        self,
        model: keras.Model,
        interp,
        step: int | None = None,
        *,
        classes=None,
        dataset: str | None = None,
        name: str | None = None,
    ):
        self.model = model
        self.step = step
        self.classes, self.dataset, self.name = classes, dataset, name
        self.cam = make_grad_cam(model, interp)
        self.masker = make_masker(model, interp)


def load(config, workdir: str | None = None, *, model=None, data_dir=None):
    """`(config, Explainer)` of a run's latest checkpoint or of a Keras
    model file, and the config resolved for it (`modelfile.load`)."""
    loaded = modelfile.load(config, workdir, model=model, data_dir=data_dir)
    return loaded.config, Explainer(
        loaded.model,
        loaded.config.interp,
        loaded.step,
        classes=loaded.classes,
        dataset=loaded.dataset,
        name=os.path.basename(os.path.normpath(loaded.source)),
    )


def load_explainer(config, workdir: str) -> Explainer:
    """The `Explainer` of the run's latest checkpoint (`load`)."""
    return load(config, workdir)[1]


def run(
    config,
    workdir: str | None = None,
    *,
    split: str | None = None,
    ids=None,
    video: str | None = None,
    videos: str | None = None,
    output_dir: str | None = None,
    shard_index: int | None = None,
    num_shards: int | None = None,
    max_clips: int | None = None,
    explainer: Explainer | None = None,
    model: str | None = None,
    data_dir: str | None = None,
) -> dict:
    """Explains clips with `config.interp`'s Grad-CAM and temporal mask.

    The clips: those of `split` (default `config.interp.split`, else
    `config.eval.split`) restricted to `ids`, the file `video` (id: its
    real path) or the files `videos` names (`video_files.list_videos`);
    the first `max_clips`, then shard `shard_index` of `num_shards`
    (default from `TF_CONFIG`, else 0 of 1). Results go to `output_dir`
    (default `_default_dir`; required with `model`; format: `resultsdir`).
    The model: the run in `workdir` or the Keras file `model` (with
    `config` and `data_dir`: `modelfile.load`), or a shared `explainer`.

    Returns `{"output_dir", "results_file", "shard": [k, n], "clips"
    (explained now), "skipped" (done before), "seconds", "merged" (shard
    results added to `results.jsonl`), "rejected" (`videos` not decoded:
    `[{"id", "path", "reason"}]`, counted by the progress bar)}`; in words:
    `summary_line`. Bad input: `errors.InputError`.
    """
    start = time.time()
    config, explainer, info = _model(
        config, workdir, explainer, model, data_dir, output_dir, video or videos
    )
    split = _check_options(config, split, ids, video, max_clips, videos)
    shard = resultsdir.worker_shard(shard_index, num_shards)
    output_dir = output_dir or _default_dir(workdir, split, video)
    options = (max_clips, shard, output_dir)
    clips, count, rejected = _select(
        config, explainer.classes, info, (split, ids, video, videos), options
    )
    masker = explainer.masker.with_perturbation(config.interp.perturbation)
    meta = _meta(config, info, workdir, split, explainer, masker)
    resultsdir.write_meta(output_dir, _resumable_meta(output_dir, meta))
    explain = functools.partial(
        _explain_batch, explainer.cam, masker, meta, output_dir
    )
    return {
        **_explain_clips(
            clips, count, output_dir, shard, config.interp.batch_size, explain
        ),
        "output_dir": output_dir,
        "shard": list(shard),
        "seconds": round(time.time() - start, 1),
        "merged": resultsdir.merge_shards(output_dir),
        "rejected": rejected,
    }


def _default_dir(workdir, split, video):
    """`<workdir>/explain/<split>`, or `explain/video` for a `video`,
    `explain/videos` for `videos`."""
    name = split or ("video" if video else "videos")
    return rundir.path(workdir, rundir.EXPLAIN, name)


def _model(config, workdir, explainer, model, data_dir, output_dir, files):
    """`(config, explainer, info)` of what `run` explains: a shared
    `explainer` with `config` checked against the run, or `load`'s; and the
    `dataset_info.json` of its dataset, checked against the model's classes
    (None for video `files` of a model that knows them)."""
    if output_dir is None and workdir is None:
        raise errors.InputError(
            "give --output_dir: where the results of --model go"
        )
    if explainer is None:
        config, explainer = load(
            config, workdir, model=model, data_dir=data_dir
        )
    else:
        config = modelfile.with_data_dir(
            train.run_config(config, workdir), data_dir
        )
    if files is not None and explainer.classes is not None:
        return config, explainer, None
    info = modelfile.read_dataset(
        config, explainer.name or workdir, explainer.classes
    )
    return config, explainer, info


def _meta(config, info, workdir, split, explainer, masker):
    """The results directory's `meta.json`: what explained which data
    (`info`: the dataset's `dataset_info.json`, None for a video file)."""
    return {
        "run": explainer.name or os.path.basename(os.path.normpath(workdir)),
        "model_name": config.model_name,
        "step": explainer.step,
        "dataset": explainer.dataset if info is None else info.get("source"),
        "classes": explainer.classes or info["classes"],
        "split": split,
        "params": _params(explainer.cam, masker, config.interp.target),
    }


def _resumable_meta(output_dir, meta):
    """`meta` as `output_dir` records it, after refusing a directory of
    results of another checkpoint step: they would mix two models'."""
    path = os.path.join(output_dir, resultsdir.META)
    if not os.path.exists(path):
        return meta
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"cannot read {path}: {error}") from None
    if "step" not in old:
        logging.warning(
            "%s records no checkpoint step (an older version's results): "
            "the step of the results added now, %s, is not checked",
            output_dir,
            meta["step"],
        )
        return {key: value for key, value in meta.items() if key != "step"}
    if old["step"] != meta["step"]:
        raise errors.InputError(
            f"{output_dir} holds results of the checkpoint of step "
            f"{old['step']}, the model now is of step {meta['step']}; "
            "choose another output_dir"
        )
    return meta


def _check_options(config, split, ids, video, max_clips, videos=None):
    """The split to explain (None for video files: `video` or `videos`),
    after refusing options that contradict each other."""
    interp = config.interp
    if interp.target not in TARGETS:
        raise errors.InputError(
            f"unknown interp.target {interp.target!r}; known: {TARGETS}"
        )
    given = (split is not None or ids is not None, video, videos)
    if sum(bool(g) for g in given) > 1:
        raise errors.InputError(
            "give a video, videos, or a split and ids; not two of them"
        )
    if max_clips is not None and max_clips < 1:
        raise errors.InputError(f"max_clips must be >= 1, got {max_clips}")
    if video is not None and interp.target == "true":
        raise errors.InputError(
            "interp.target 'true' needs labels; a video file has none"
        )
    if video is not None or videos is not None:
        return None
    return split or interp.split or config.eval.split


def _explain_clips(clips, count, output_dir, shard, batch_size, explain):
    """Explains the clips not yet in this shard's results, in batches, and
    appends each batch's records as it finishes.

    Args:
        clips: Iterable of clip dicts; one with a `rejected` key (a video
            file that did not decode) only advances the progress bar.
        count: How many `clips` there are, for the progress bar; or None.
        output_dir: The results directory.
        shard: `(shard_index, num_shards)`.
        batch_size: Clips per call of `explain`.
        explain: Function of a list of clips returning their records.

    Returns:
        `{"results_file", "clips" (explained now), "skipped"}`.
    """
    results_file, marker, done = resultsdir.resume(output_dir, *shard)
    progress = keras.utils.Progbar(count, unit_name="clip")
    explained = skipped = 0
    batch = []
    with open(results_file, "a") as lines:
        for clip in itertools.chain(clips, [None]):
            if clip is not None and "rejected" in clip:
                progress.add(1)
                continue
            if clip is not None and clip["id"] in done:
                skipped += 1
                progress.add(1)
                continue
            if clip is not None:
                done.add(clip["id"])
                batch.append(clip)
            if batch and (clip is None or len(batch) == batch_size):
                resultsdir.append_records(lines, explain(batch))
                explained += len(batch)
                progress.add(len(batch))
                batch = []
    if shard[1] > 1:
        files.write_json(marker, {"clips": explained, "skipped": skipped})
    return {
        "results_file": results_file,
        "clips": explained,
        "skipped": skipped,
    }


def summary_line(summary) -> str:
    """`run`'s `summary` in words: `4 clips: 2 explained, 1 done before, 1
    rejected, listed in <output_dir>/rejected.txt`; the first number is the
    progress bar's total."""
    rejected = len(summary["rejected"])
    total = summary["clips"] + summary["skipped"] + rejected
    path = _rejected_path(summary["output_dir"], summary["shard"])
    return (
        f"{total} clips: {summary['clips']} explained, "
        f"{summary['skipped']} done before"
        + (f", {rejected} rejected, listed in {path}" if rejected else "")
    )


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
    cam = make_grad_cam(model, config.interp)

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


def make_grad_cam(model: keras.Model, interp) -> grad_cam.GradCAM:
    """`model`'s `GradCAM` with the options of a config's `interp`; an
    unknown or time-less layer raises `errors.InputError`."""
    return grad_cam.GradCAM(
        model,
        interp.layer or None,
        weighting=interp.weighting,
        score=interp.score,
        upsample=interp.upsample,
        normalize=interp.normalize,
    )


def make_masker(
    model: keras.Model, interp
) -> temporal_mask.TemporalMaskExplainer:
    """`model`'s `TemporalMaskExplainer` with the options of a config's
    `interp`."""
    return temporal_mask.TemporalMaskExplainer(
        model,
        interp.perturbation,
        lambda1=interp.lambda1,
        lambda2=interp.lambda2,
        beta=interp.beta,
        iterations=interp.iterations,
        learning_rate=interp.learning_rate,
        init=interp.init,
        early_stopping=interp.early_stopping,
    )


def _params(cam, masker, target):
    """Every parameter an explanation depends on, as stored with it."""
    names = (
        "perturbation",
        "lambda1",
        "lambda2",
        "beta",
        "iterations",
        "learning_rate",
        "init",
        "constant_logit",
        "early_stopping",
        "tol",
        "patience",
    )
    return {
        "layer": cam.layer,
        "weighting": cam.weighting,
        "score": cam.score,
        "upsample": cam.upsample,
        "normalize": cam.normalize,
        **{name: getattr(masker, name) for name in names},
        "target": target,
    }


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


def _select(config, classes, info, selection, options):
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
    path = _rejected_path(output_dir, shard)
    if rejected:
        files.write_atomic(path, lines)
    elif os.path.exists(path):
        os.remove(path)


def _rejected_path(output_dir, shard):
    """`rejected.txt` of `output_dir`, or `rejected-<k>-of-<n>.txt` for
    shard k of n > 1."""
    index, count = shard
    name = f"rejected-{index}-of-{count}.txt" if count > 1 else "rejected.txt"
    return os.path.join(output_dir, name)


def _explain_batch(cam, masker, meta, output_dir, batch):
    """Explains `batch` and writes its maps; returns its records."""
    frames = np.stack([clip["frames"] for clip in batch])
    labels = [
        None if clip["label"] is None else int(clip["label"]) for clip in batch
    ]
    class_ids = labels if meta["params"]["target"] == "true" else None
    maps = cam.explain(frames, class_ids)
    targets = maps["class_ids"].numpy()
    masks = masker(frames, targets)
    probabilities = tf.nn.softmax(maps["logits"]).numpy()
    heatmaps = maps["heatmaps"].numpy().astype(np.float16)
    pixels = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    records = []
    for i, clip in enumerate(batch):
        file = resultsdir.write_gradcam(
            output_dir, clip["id"], heatmaps[i], pixels[i]
        )
        label = labels[i]
        records.append(
            {
                "id": clip["id"],
                "split": meta["split"],
                "model_name": meta["model_name"],
                "run": meta["run"],
                "dataset": meta["dataset"],
                "label": label,
                "predicted_class": int(np.argmax(probabilities[i])),
                "target_class": int(targets[i]),
                "original_score": float(masks["original_score"][i]),
                "true_class_score": (
                    None if label is None else float(probabilities[i][label])
                ),
                "gradcam": {
                    "file": file,
                    "layer": cam.layer,
                    "weighting": cam.weighting,
                    "score": cam.score,
                    "class_id": int(targets[i]),
                },
                "mask": _mask_record(masks, i, masker.perturbation),
                "ground_truth": _ground_truth(clip),
                "params": meta["params"],
            }
        )
    # Strict JSON: a NaN score or mask value is stored as null.
    return [files.jsonable(record) for record in records]


def _mask_record(masks, i, perturbation):
    keys = (
        "mask",
        "binary_mask",
        "mask_length",
        "freeze_score",
        "reverse_score",
        "freeze_prediction",
        "reverse_prediction",
        "loss_curve",
        "steps_run",
        "initial_mask",
    )
    # `tolist` turns NumPy arrays and scalars into plain JSON values.
    record = {key: masks[key][i].tolist() for key in keys}
    record["binary_mask"] = masks["binary_mask"][i].astype(int).tolist()
    return {"perturbation": perturbation, **record}


def _ground_truth(clip):
    if not clip["has_ground_truth"]:
        return None
    return {
        "event": clip["event"].astype(int).tolist(),
        "boxes": clip["boxes"].tolist(),
        "box_valid": clip["box_valid"].tolist(),
    }
