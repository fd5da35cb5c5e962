"""Compares explained models: the paper's Tables 1-4, Fig. 4, GIFs, report.

Reads the per-clip results of `explain` (one directory per model), and
optionally each model's `evaluate` JSON and the `faithfulness.json` that
`tfvidinterp.jobs.faithfulness` writes into a results directory, and writes into
`output_dir`:
`report.html` (self-contained), `tables/*.csv`, `figures/*.png`,
`gifs/<id>.gif`, `stats.json` and TensorBoard logs under `tb/`.
"""

import itertools
import json
import math
import os

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import resultsdir
from tfvidinterp.measures import blobs
from tfvidinterp.measures import statistics
from tfvidinterp.measures import targets
from tfvidinterp.report import faithfulness_tables
from tfvidinterp.report import figures
from tfvidinterp.report import gif
from tfvidinterp.report import page
from tfvidinterp.report import tables
from tfvidinterp.report import tensorboard


def measure(results: dict, detector, drop_filter=0.001) -> dict:
    """The paper's measures on every clip of one results directory.

    Args:
        results: From `load_results`.
        detector: From `blobs.make_detector`.
        drop_filter: The drop ratio's filter bound.

    Returns:
        `{"ids", "measures": {key: (clips,) float, NaN where absent},
        "drop_ratio_left_out", "clips_without_blobs"}`, keys as in
        `statistics.MEASURES`.
    """
    records = results["records"]
    found = []
    progress = keras.utils.Progbar(len(records), unit_name="clip")
    for record in records:
        heatmaps = resultsdir.read_gradcam(results["dir"], record)["heatmaps"]
        found.append(blobs.clip_statistics(heatmaps, detector))
        progress.add(1)
    values = {
        k: np.array([b[k] for b in found], np.float64)
        for k in ("blob_count", "blob_size", "center_distance")
    }
    os_, fs, rs, length = np.array(
        [
            (
                r["original_score"],
                r["mask"]["freeze_score"],
                r["mask"]["reverse_score"],
                r["mask"]["mask_length"],
            )
            for r in records
        ],
        np.float64,
    ).T
    values["mask_length"] = length
    values["drop_ratio"], left_out = statistics.drop_ratio(
        os_, fs, rs, drop_filter
    )
    values["drop_difference"] = statistics.drop_difference(os_, fs, rs)
    return {
        "ids": [r["id"] for r in records],
        "measures": values,
        "drop_ratio_left_out": left_out,
        "clips_without_blobs": sum(b["num_blobs"] == 0 for b in found),
    }


def run(
    results_dirs, output_dir: str, config, eval_files=None, warnings=()
) -> dict:
    """Compares the models of `results_dirs` and writes every output.

    Args:
        results_dirs: One `explain` results directory per model (the paper
            compares two; t-tests run between every pair).
        output_dir: Where the report, tables, figures, GIFs, `stats.json`
            and `tb/` go.
        config: `configs/compare.py`'s config.
        eval_files: Optional `evaluate` JSONs, one per results directory,
            for Tables 1-2.
        warnings: Sentences for the report's banner (the demo's missed
            target accuracies); each missed faithfulness target is added.

    Returns:
        The content of `stats.json` (docs/formats.md). A results directory
        with a `faithfulness.json` adds the faithfulness and layer tables.

    Raises:
        errors.InputError: Unreadable inputs, or eval files that do not
            pair up with the results directories.
    """
    if not results_dirs:
        raise errors.InputError("no results directories given")
    if eval_files and len(eval_files) != len(results_dirs):
        raise errors.InputError(
            f"{len(eval_files)} eval files for {len(results_dirs)} results "
            "directories; give one per directory"
        )
    sets = [resultsdir.load_results(d) for d in results_dirs]
    evals = [evaluate.load_eval(p) for p in eval_files] if eval_files else None
    detector = blobs.make_detector(dict(config.blobs))
    for results, label in zip(sets, _labels(sets)):
        results["label"] = label
        results.update(measure(results, detector, config.drop_filter))
    stats = _stats(sets, config)
    shown = tables.paper_tables(
        stats["models"], stats["ttests"], evals, config.drop_filter
    )
    faithful = [resultsdir.load_faithfulness(d) for d in results_dirs]
    stats["warnings"] = list(warnings) + _missed(sets, faithful)
    if any(faithful):
        stats["faithfulness"] = files.jsonable(faithful)
        labels = [s["label"] for s in sets]
        shown += [
            faithfulness_tables.faithfulness_table(faithful, labels),
            faithfulness_tables.layer_table(faithful, labels),
        ]
    _write(
        output_dir,
        sets,
        stats,
        shown,
        _histograms(sets, config),
        _gifs(sets, config),
    )
    return stats


def _missed(sets, faithful):
    """A sentence per missed faithfulness target, with the model's label."""
    return [
        f"{s['label']}: {missed}"
        for s, f in zip(sets, faithful)
        if f
        for missed in targets.missed_targets(f)
    ]


def _histograms(sets, config):
    """`(key, name, png)` of each measure's histogram (the paper's Fig. 4)."""
    labels = [s["label"] for s in sets]
    return [
        (
            key,
            name,
            figures.plot_histograms(
                [s["measures"][key] for s in sets],
                labels,
                name,
                config.histogram_bins,
            ),
        )
        for key, name in statistics.MEASURES
    ]


def _stats(sets, config):
    models = [
        {
            "label": s["label"],
            "results_dir": s["dir"],
            **{
                k: s["meta"].get(k)
                for k in ("run", "model_name", "dataset", "split")
            },
            "num_clips": len(s["ids"]),
            "drop_ratio_left_out": s["drop_ratio_left_out"],
            "clips_without_blobs": s["clips_without_blobs"],
            "summary": {
                k: statistics.summarize(v) for k, v in s["measures"].items()
            },
            "clips": [
                {"id": clip_id, **{k: v[i] for k, v in s["measures"].items()}}
                for i, clip_id in enumerate(s["ids"])
            ],
        }
        for s in sets
    ]
    ttests = [
        {
            "measure": key,
            "a": a["label"],
            "b": b["label"],
            **statistics.welch_test(a["measures"][key], b["measures"][key]),
        }
        for a, b in itertools.combinations(sets, 2)
        for key, _ in statistics.MEASURES
    ]
    return files.jsonable(
        {
            "blob_detector": dict(config.blobs),
            "drop_filter": config.drop_filter,
            "models": models,
            "ttests": ttests,
        }
    )


def _gifs(sets, config):
    """`(file name, caption, GIF bytes, (width, height))` per chosen clip."""
    by_id = [{r["id"]: r for r in s["records"]} for s in sets]
    order = list(dict.fromkeys(i for ids in by_id for i in ids))
    # Clips that every model explained come first.
    order.sort(key=lambda i: -sum(i in ids for ids in by_id))
    out = []
    for clip_id in order[: config.max_gifs]:
        rows, caption = [], clip_id
        for results, ids in zip(sets, by_id):
            if clip_id in ids:
                rows.append(_gif_row(results, ids[clip_id], config))
                true = ids[clip_id].get("label")
                if true is not None:
                    name = gif.class_name(results["meta"].get("classes"), true)
                    caption = f"{clip_id} (true: {name})"
        frames = gif.stack_rows(rows)
        out.append(
            (
                files.safe_name(clip_id),
                caption,
                gif.encode(frames, config.gif_fps),
                (frames.shape[2], frames.shape[1]),
            )
        )
    return out


def _gif_row(results, record, config):
    clip = resultsdir.read_gradcam(results["dir"], record)
    frames = clip["frames"]
    classes = results["meta"].get("classes")
    target = gif.class_name(classes, record["target_class"])
    scale = max(1, math.ceil(config.gif_min_height / frames.shape[1]))
    lines = [
        f"{results['label']}, target: {target}",
        gif.caption(_null_as_nan(record), classes),
    ]
    return gif.row_frames(
        frames, clip["heatmaps"], record["mask"]["binary_mask"], lines, scale
    )


def _null_as_nan(record):
    """`record` with its null scores as NaN: results are strict JSON, so a
    NaN score (a model's NaN output) is stored as null."""

    def nan(value):
        return math.nan if value is None else value

    return dict(
        record,
        original_score=nan(record["original_score"]),
        mask={key: nan(value) for key, value in record["mask"].items()},
    )


def _write(output_dir, sets, stats, shown, histograms, gifs):
    def path(*names):
        return os.path.join(output_dir, *names)

    for table in shown:
        files.write_atomic(
            path("tables", f"{table.id}.csv"), tables.to_csv(table)
        )
    for key, _, png in histograms:
        files.write_atomic(path("figures", f"{key}.png"), png, "wb")
    for name, _, data, _ in gifs:
        files.write_atomic(path("gifs", f"{name}.gif"), data, "wb")
    files.write_json(path("stats.json"), stats)
    for results in sets:
        writer = tf.summary.create_file_writer(
            path("tb", files.safe_name(results["label"]))
        )
        with writer.as_default():
            tensorboard.write_measures(results["measures"])
        writer.close()
    writer = tf.summary.create_file_writer(path("tb", "comparison"))
    with writer.as_default():
        tensorboard.write_tables(shown)
        for name, caption, data, (width, height) in gifs:
            tensorboard.write_gif(
                f"clips/{name}", data, width, height, description=caption
            )
    writer.close()
    models = "; ".join(f"{s['label']}: {s['dir']}" for s in sets)
    detector = json.dumps(stats["blob_detector"], sort_keys=True)
    intro = (
        f"Results: {models}. Blob detector (OpenCV "
        f"SimpleBlobDetector) parameters: {detector}."
    )
    text = page.to_html(
        "Video model comparison",
        intro,
        shown,
        [(name, png) for _, name, png in histograms],
        [(caption, data) for _, caption, data, _ in gifs],
        stats["warnings"],
    )
    files.write_atomic(path("report.html"), text)


def _labels(sets):
    """ "I3D (KTH)"-style names; the run's name where two would clash."""
    labels = []
    for results in sets:
        meta = results["meta"]
        model = tables.MODEL_NAMES.get(meta["model_name"], meta["model_name"])
        dataset = tables.DATASET_NAMES.get(meta["dataset"], meta["dataset"])
        # A model file's results of video files know no dataset.
        label = f"{model} ({dataset})" if dataset else model
        if label in labels:
            label = meta.get("run") or label
        while label in labels:
            label += "'"
        labels.append(label)
    return labels
