"""Explains a trained model clip by clip: Grad-CAM maps and temporal masks.

`run` explains the clips of a dataset split (or some of them, one video
file, or many: `tfvidinterp.data.video_files`) in batches, and writes each
batch's results into a results directory as it finishes
(`tfvidinterp.jobs.resultsdir`, which compare reads). Several workers split
the clips round-robin: clip i of the selection goes to shard
`i % num_shards`. `explain_clips` reads the clips, `explain_records` makes
what is written of them.
"""

import functools
import itertools
import os
import time

import keras

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import precision as precision_lib
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import temporal_mask
from tfvidinterp.jobs import explain_clips
from tfvidinterp.jobs import explain_records
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
        precision: The Keras dtype policy `model` was built under,
            recorded with the results (None: a model file's own dtypes).

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
        precision: str | None = None,
    ):
        self.model = model
        self.step, self.precision = step, precision
        self.classes, self.dataset, self.name = classes, dataset, name
        self.cam = make_grad_cam(model, interp)
        self.masker = make_masker(model, interp)


def load(
    config,
    workdir: str | None = None,
    *,
    model=None,
    data_dir=None,
    precision=precision_lib.RUN,
):
    """`(config, Explainer)` of a run's latest checkpoint or of a Keras
    model file, and the config resolved for it (`modelfile.load`, which
    takes `precision`)."""
    loaded = modelfile.load(
        config, workdir, model=model, data_dir=data_dir, precision=precision
    )
    return loaded.config, Explainer(
        loaded.model,
        loaded.config.interp,
        loaded.step,
        classes=loaded.classes,
        dataset=loaded.dataset,
        name=os.path.basename(os.path.normpath(loaded.source)),
        precision=loaded.precision,
    )


def load_explainer(
    config, workdir: str, precision=precision_lib.RUN
) -> Explainer:
    """The `Explainer` of the run's latest checkpoint (`load`)."""
    return load(config, workdir, precision=precision)[1]


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
    precision: str = precision_lib.RUN,
) -> dict:
    """Explains clips with `config.interp`'s Grad-CAM and temporal mask.

    The clips: those of `split` (default `config.interp.split`, else
    `config.eval.split`) restricted to `ids`, the file `video` (id: its
    real path) or the files `videos` names (`video_files.list_videos`);
    the first `max_clips`, then shard `shard_index` of `num_shards`
    (default from `TF_CONFIG`, else 0 of 1). Results go to `output_dir`
    (default `_default_dir`; required with `model`; format: `resultsdir`).
    The model: the run in `workdir` or the Keras file `model` (with
    `config`, `data_dir` and `precision`: `modelfile.load`; a run computes
    in the precision it trained in), or a shared `explainer`.

    Returns `{"output_dir", "results_file", "shard": [k, n], "clips"
    (explained now), "skipped" (done before), "seconds", "merged" (shard
    results added to `results.jsonl`), "rejected" (`videos` not decoded:
    `[{"id", "path", "reason"}]`, counted by the progress bar)}`; in words:
    `summary_line`. Bad input: `errors.InputError`.
    """
    start = time.time()
    source = (model, data_dir, precision)
    config, explainer, info = _model(
        config, workdir, explainer, source, output_dir, video or videos
    )
    split = _check_options(config, split, ids, video, max_clips, videos)
    shard = resultsdir.worker_shard(shard_index, num_shards)
    output_dir = output_dir or _default_dir(workdir, split, video)
    options = (max_clips, shard, output_dir)
    clips, count, rejected = explain_clips.select(
        config, explainer.classes, info, (split, ids, video, videos), options
    )
    explain = _batch_function(
        config, info, workdir, split, explainer, output_dir
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


def _batch_function(config, info, workdir, split, explainer, output_dir):
    """Writes `output_dir`'s `meta.json`; returns the function that
    explains a batch and returns its records
    (`explain_records.explain_batch`)."""
    masker = explainer.masker.with_perturbation(config.interp.perturbation)
    meta = explain_records.meta(config, info, workdir, split, explainer, masker)
    explain_records.write_meta(output_dir, meta)
    return functools.partial(
        explain_records.explain_batch, explainer.cam, masker, meta, output_dir
    )


def _default_dir(workdir, split, video):
    """`<workdir>/explain/<split>`, or `explain/video` for a `video`,
    `explain/videos` for `videos`."""
    name = split or ("video" if video else "videos")
    return rundir.path(workdir, rundir.EXPLAIN, name)


def _model(config, workdir, explainer, source, output_dir, files):
    """`(config, explainer, info)` of what `run` explains: a shared
    `explainer` with `config` checked against the run, or `load`'s of
    `source`, `(model, data_dir, precision)`; and the `dataset_info.json`
    of its dataset, checked against the model's classes (None for video
    `files` of a model that knows them)."""
    model, data_dir, precision = source
    if output_dir is None and workdir is None:
        raise errors.InputError(
            "give --output_dir: where the results of --model go"
        )
    if explainer is None:
        config, explainer = load(
            config, workdir, model=model, data_dir=data_dir, precision=precision
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
    path = explain_clips.rejected_path(summary["output_dir"], summary["shard"])
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
