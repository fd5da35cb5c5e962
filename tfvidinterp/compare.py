"""Compares explained models: the paper's Tables 1-4, Fig. 4, GIFs, report.

Reads the per-clip results of `explain` (one directory per model), and
optionally each model's `evaluate` JSON and the `faithfulness.json` that
`tfvidinterp.faithfulness` writes into a results directory, and writes into
`output_dir`:
`report.html` (self-contained), `tables/*.csv`, `figures/*.png`,
`gifs/<id>.gif`, `stats.json` and TensorBoard logs under `tb/`.
"""

import itertools
import json
import math
import os
import re

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp import workdir as wd
from tfvidinterp.analysis import blobs
from tfvidinterp.analysis import faithfulness
from tfvidinterp.analysis import figures
from tfvidinterp.analysis import gif
from tfvidinterp.analysis import report
from tfvidinterp.analysis import statistics
from tfvidinterp.analysis import tensorboard


def load_results(directory: str) -> dict:
    """Reads an `explain` results directory.

    Returns:
        `{"dir", "meta", "records"}`: `meta.json` and the records of
        `results.jsonl`, the last one per clip id. A final line cut short by
        an interrupted run is skipped.

    Raises:
        errors.InputError: A missing or unreadable file, or no clips.
    """
    try:
        with open(os.path.join(directory, "meta.json")) as f:
            meta = json.load(f)
        with open(os.path.join(directory, "results.jsonl")) as f:
            lines = f.read().splitlines()
    except (OSError, ValueError) as error:
        raise errors.InputError(
            f"cannot read results in {directory}: {error}") from None
    records = {}
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise errors.InputError(
                f"{directory}/results.jsonl line {number} is not JSON"
            ) from None
        records[record["id"]] = record
    if not records:
        raise errors.InputError(f"no explained clips in {directory}")
    return {"dir": directory, "meta": meta, "records": list(records.values())}


def load_eval(path: str) -> dict:
    """Reads an `evaluate` JSON (`{"split", "step", "forward", "reversed"}`).

    Raises:
        errors.InputError: A missing file, or not such a JSON.
    """
    try:
        with open(path) as f:
            result = json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"cannot read {path}: {error}") from None
    keys = ("top1", "top5", "macro_f1", "f1")
    if not all(k in result.get(d, {}) for d in ("forward", "reversed")
               for k in keys):
        raise errors.InputError(f"not an evaluate JSON: {path}")
    return result


def load_faithfulness(directory: str):
    """The `faithfulness.json` of a results directory, None if it has none.

    Raises:
        errors.InputError: The file is not JSON.
    """
    path = os.path.join(directory, faithfulness.FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise errors.InputError(f"cannot read {path}: {error}") from None


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
        heatmaps = _clip_array(results, record, "heatmaps")
        found.append(blobs.clip_statistics(heatmaps, detector))
        progress.add(1)
    values = {k: np.array([b[k] for b in found], np.float64)
              for k in ("blob_count", "blob_size", "center_distance")}
    os_, fs, rs, length = np.array(
        [(r["original_score"], r["mask"]["freeze_score"],
          r["mask"]["reverse_score"], r["mask"]["mask_length"])
         for r in records], np.float64).T
    values["mask_length"] = length
    values["drop_ratio"], left_out = statistics.drop_ratio(
        os_, fs, rs, drop_filter)
    values["drop_difference"] = statistics.drop_difference(os_, fs, rs)
    return {
        "ids": [r["id"] for r in records],
        "measures": values,
        "drop_ratio_left_out": left_out,
        "clips_without_blobs": sum(b["num_blobs"] == 0 for b in found),
    }


def run(results_dirs, output_dir: str, config, eval_files=None,
        warnings=()) -> dict:
    """Compares the models of `results_dirs` and writes every output.

    Args:
        results_dirs: One `explain` results directory per model: two, as
            the paper compares I3D and C-LSTM (one or more work; t-tests
            run between every pair).
        output_dir: Where the report, tables, figures, GIFs, `stats.json`
            and `tb/` go.
        config: `configs/compare.py`'s config (blobs, drop_filter,
            histogram_bins, max_gifs, gif_fps, gif_min_height).
        eval_files: Optional `evaluate` JSONs, one per results directory,
            for Tables 1-2.
        warnings: Sentences for the report's banner (the demo's missed
            target accuracies); each missed faithfulness target is added.

    Returns:
        The content of `stats.json`; with `"faithfulness"`, one entry per
        model (None for a model without), when a results directory holds a
        `faithfulness.json`, which also adds the report's faithfulness
        and layer tables; `"warnings"`, the banner's sentences.

    Raises:
        errors.InputError: Unreadable inputs, or eval files that do not
            pair up with the results directories.
    """
    if not results_dirs:
        raise errors.InputError("no results directories given")
    if eval_files and len(eval_files) != len(results_dirs):
        raise errors.InputError(
            f"{len(eval_files)} eval files for {len(results_dirs)} results "
            "directories; give one per directory")
    sets = [load_results(d) for d in results_dirs]
    evals = [load_eval(p) for p in eval_files] if eval_files else None
    detector = blobs.make_detector(dict(config.blobs))
    for results, label in zip(sets, _labels(sets)):
        results["label"] = label
        results.update(measure(results, detector, config.drop_filter))
    stats = _stats(sets, config)
    tables = report.paper_tables(stats["models"], stats["ttests"], evals,
                                 config.drop_filter)
    faithful = [load_faithfulness(d) for d in results_dirs]
    stats["warnings"] = list(warnings) + [
        f"{s['label']}: {missed}" for s, f in zip(sets, faithful) if f
        for missed in faithfulness.missed_targets(f)]
    if any(faithful):
        stats["faithfulness"] = wd.jsonable(faithful)
        labels = [s["label"] for s in sets]
        tables += [report.faithfulness_table(faithful, labels),
                   report.layer_table(faithful, labels)]
    histograms = [
        (key, name, figures.plot_histograms(
            [s["measures"][key] for s in sets], [s["label"] for s in sets],
            name, config.histogram_bins))
        for key, name in statistics.MEASURES
    ]
    _write(output_dir, sets, stats, tables, histograms, _gifs(sets, config))
    return stats


def _stats(sets, config):
    models = [{
        "label": s["label"], "results_dir": s["dir"],
        **{k: s["meta"].get(k) for k in ("run", "model_name", "dataset",
                                         "split")},
        "num_clips": len(s["ids"]),
        "drop_ratio_left_out": s["drop_ratio_left_out"],
        "clips_without_blobs": s["clips_without_blobs"],
        "summary": {k: statistics.summarize(v)
                    for k, v in s["measures"].items()},
        "clips": [{"id": clip_id, **{k: v[i] for k, v in
                                     s["measures"].items()}}
                  for i, clip_id in enumerate(s["ids"])],
    } for s in sets]
    ttests = [
        {"measure": key, "a": a["label"], "b": b["label"],
         **statistics.welch_test(a["measures"][key], b["measures"][key])}
        for a, b in itertools.combinations(sets, 2)
        for key, _ in statistics.MEASURES
    ]
    return wd.jsonable({
        "blob_detector": dict(config.blobs),
        "drop_filter": config.drop_filter,
        "models": models,
        "ttests": ttests,
    })


def _gifs(sets, config):
    """`(file name, caption, GIF bytes, (width, height))` per chosen clip."""
    by_id = [{r["id"]: r for r in s["records"]} for s in sets]
    order = list(dict.fromkeys(i for ids in by_id for i in ids))
    # Clips that every model explained come first.
    order.sort(key=lambda i: -sum(i in ids for ids in by_id))
    out = []
    for clip_id in order[:config.max_gifs]:
        rows, caption = [], clip_id
        for results, ids in zip(sets, by_id):
            if clip_id in ids:
                rows.append(_gif_row(results, ids[clip_id], config))
                true = ids[clip_id].get("label")
                if true is not None:
                    name = gif.class_name(results["meta"].get("classes"),
                                          true)
                    caption = f"{clip_id} (true: {name})"
        frames = gif.stack_rows(rows)
        out.append((_safe(clip_id), caption,
                    gif.encode(frames, config.gif_fps),
                    (frames.shape[2], frames.shape[1])))
    return out


def _gif_row(results, record, config):
    frames = _clip_array(results, record, "frames")
    classes = results["meta"].get("classes")
    target = gif.class_name(classes, record["target_class"])
    scale = max(1, math.ceil(config.gif_min_height / frames.shape[1]))
    lines = [f"{results['label']}, target: {target}",
             gif.caption(record, classes)]
    return gif.row_frames(frames, _clip_array(results, record, "heatmaps"),
                          record["mask"]["binary_mask"], lines, scale)


def _write(output_dir, sets, stats, tables, histograms, gifs):
    def path(*names):
        return os.path.join(output_dir, *names)

    for table in tables:
        wd.write_atomic(path("tables", f"{table.id}.csv"),
                        report.to_csv(table))
    for key, _, png in histograms:
        wd.write_atomic(path("figures", f"{key}.png"), png, "wb")
    for name, _, data, _ in gifs:
        wd.write_atomic(path("gifs", f"{name}.gif"), data, "wb")
    wd.write_json(path("stats.json"), stats)
    for results in sets:
        writer = tf.summary.create_file_writer(
            path("tb", _safe(results["label"])))
        with writer.as_default():
            tensorboard.write_measures(results["measures"])
        writer.close()
    writer = tf.summary.create_file_writer(path("tb", "comparison"))
    with writer.as_default():
        tensorboard.write_tables(tables)
        for name, caption, data, (width, height) in gifs:
            tensorboard.write_gif(f"clips/{name}", data, width, height,
                                  description=caption)
    writer.close()
    models = "; ".join(f"{s['label']}: {s['dir']}" for s in sets)
    detector = json.dumps(stats["blob_detector"], sort_keys=True)
    intro = (f"Results: {models}. Blob detector (OpenCV "
             f"SimpleBlobDetector) parameters: {detector}.")
    page = report.to_html(
        "Video model comparison", intro, tables,
        [(name, png) for _, name, png in histograms],
        [(caption, data) for _, caption, data, _ in gifs],
        stats["warnings"])
    wd.write_atomic(path("report.html"), page)


def _clip_array(results, record, key):
    """`heatmaps` or `frames` of a clip's `gradcam/<id>.npz`."""
    path = os.path.join(results["dir"], record["gradcam"]["file"])
    try:
        with np.load(path) as data:
            return data[key]
    except (OSError, KeyError, ValueError) as error:
        raise errors.InputError(
            f"cannot read Grad-CAM maps {path}: {error}") from None


def _labels(sets):
    """"I3D (KTH)"-style names; the run's name where two would clash."""
    labels = []
    for results in sets:
        meta = results["meta"]
        model = report.MODEL_NAMES.get(meta["model_name"], meta["model_name"])
        dataset = report.DATASET_NAMES.get(meta["dataset"], meta["dataset"])
        label = f"{model} ({dataset})"
        if label in labels:
            label = meta.get("run") or label
        while label in labels:
            label += "'"
        labels.append(label)
    return labels


def _safe(name):
    """`name` as a file name: runs of other characters become one "_"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "_"
