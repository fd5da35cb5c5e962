"""Measures whether a model's explanations are right, on synthetic clips.

Synthetic clips know their event window and object boxes, so an `explain`
results directory can be checked against them (README "Faithfulness"):
temporal IoU of the learned masks with the window, the Grad-CAM pointing
game, the Grad-CAM time profile, deletion and insertion curves in the mask's
frame order, and the model-randomisation sanity check (Adebayo et al.,
"Sanity Checks for Saliency Maps", NeurIPS 2018,
https://arxiv.org/abs/1810.03292). Each comes with a baseline; the pure
measures are in `tfvidinterp.analysis.faithfulness`.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import compare
from tfvidinterp import errors
from tfvidinterp import train
from tfvidinterp import workdir as wd
from tfvidinterp.analysis import faithfulness as measures
from tfvidinterp.analysis import report
from tfvidinterp.data import pipeline
from tfvidinterp.data import synthetic
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import layer_sweep
from tfvidinterp.interp import perturbation as perturbations

PERTURBATIONS = {"freeze": perturbations.freeze,
                 "reverse": perturbations.reverse}


def run(config, workdir: str, results_dir: str, *, seed: int = 0,
        random_orders: int = 5, tolerance: int | None = None,
        sanity: bool = True, spatial_clips: int = 48,
        layers=None) -> dict:
    """Measures the explanations of `results_dir` and writes them beside it.

    Clips with ground truth count. The mask IoU, the time profile, deletion
    and insertion use the object classes only: a pan's shifted view stays
    after its window, so the window is not the right answer for its mask.
    The spatial measures (the pointing game and the Grad-CAM energy in the
    objects' boxes, per layer, against the input-gradient baseline) use the
    event frames with a visible object of the first `spatial_clips` clips of
    the results' split, read from the dataset: they need one forward and
    backward pass per clip, not a mask, so they can use more clips than were
    explained. The sanity check uses every explained clip.

    Args:
        config: The config the model was trained with.
        workdir: The training run's directory (its latest checkpoint).
        results_dir: An `explain` results directory of that model.
        seed: Seed of the random frame orders; the random-weight model is
            built after `keras.utils.set_random_seed(seed + 1)`.
        random_orders: Random frame orders per clip, the deletion and
            insertion baseline.
        tolerance: Pixels added on each side of the boxes in the pointing
            game; None: `measures.default_tolerance`.
        sanity: Run the model-randomisation check.
        spatial_clips: Clips of the split for the spatial measures.
        layers: Grad-CAM layers of the sweep; None:
            `layer_sweep.last_per_resolution`. The explained layer is
            always measured.

    Returns:
        What `<results_dir>/faithfulness.json` holds: `run`, `model_name`,
        `results_dir`, `clips`, `object_clips`, `perturbation`, `seed`,
        `random_orders`, and `mask_iou`, `pointing_game` and `energy` (at
        the explained layer), `layers` (a row per layer of the sweep and one
        for the input gradient), `time_profile`, `deletion`, `insertion`,
        `sanity`, `targets` (README
        "Faithfulness"). Floats have 4 decimals; what could not be measured
        (no clips for it, or `sanity=False`) is None, its target too.

    Raises:
        errors.InputError: An unreadable results directory, no clips with
            ground truth, results of another model, or bad options.
    """
    if random_orders < 1:
        raise errors.InputError(f"random_orders must be >= 1, got "
                                f"{random_orders}")
    if spatial_clips < 1:
        raise errors.InputError(f"spatial_clips must be >= 1, got "
                                f"{spatial_clips}")
    if tolerance is not None and tolerance < 0:
        raise errors.InputError(f"tolerance must be >= 0, got {tolerance}")
    results = compare.load_results(results_dir)
    meta = results["meta"]
    records = [r for r in results["records"] if r.get("ground_truth")]
    if not records:
        raise errors.InputError(
            f"no clips with ground truth in {results_dir}; faithfulness "
            "needs explained synthetic clips")
    if meta.get("model_name") != config.model_name:
        raise errors.InputError(
            f"{results_dir} explains a {meta.get('model_name')} model, the "
            f"config is a {config.model_name}")
    classes = meta["classes"]
    objects = [r for r in records
               if classes[r["label"]] not in synthetic.PAN_CLASSES]
    clips = {r["id"]: _load_clip(results_dir, r) for r in records}
    heatmaps = {i: clip["heatmaps"] for i, clip in clips.items()}
    height, width = clips[records[0]["id"]]["heatmaps"].shape[1:]
    if tolerance is None:
        tolerance = measures.default_tolerance(height, width)
    model, _ = train.load_model(config, workdir)
    if model.output.shape[-1] != len(classes):
        raise errors.InputError(
            f"{results_dir} has {len(classes)} classes, the model "
            f"{model.output.shape[-1]}")
    grad_cam.check_inputs(model, clips[records[0]["id"]]["frames"][None])

    layer = records[0]["gradcam"]["layer"]
    rows = _layer_rows(model, config, meta, records[0], layers,
                       spatial_clips, tolerance)
    reported = next(row for row in rows if row["layer"] == layer)
    result = {
        "run": meta.get("run"), "model_name": meta["model_name"],
        "results_dir": results_dir, "clips": len(records),
        "object_clips": len(objects),
        "perturbation": ",".join(sorted(
            {r["mask"]["perturbation"] for r in objects})) or None,
        "seed": seed, "random_orders": random_orders,
        "mask_iou": measures.pooled_mask_iou(objects),
        "layer": layer,
        "pointing_game": {"gradcam": reported["pointing"],
                          "centre": reported["centre"],
                          "frames": reported["frames"],
                          "clips": reported["clips"],
                          "tolerance_px": tolerance},
        "energy": {key: reported[key] for key in ("energy", "area", "ratio")},
        "layers": rows,
        "time_profile": measures.pooled_time_profile(objects, heatmaps),
        **_curves(model, objects, clips, random_orders, seed),
        "sanity": _sanity(config, len(classes), records, clips, seed)
        if sanity else dict.fromkeys(
            ("spearman", "spearman_std", "clips", "constant_maps")),
    }
    result["targets"] = measures.targets(result)
    result = wd.jsonable(result, digits=4)
    wd.write_json(os.path.join(results_dir, measures.FILE), result)
    return result


def markdown_table(results, labels=None) -> str:
    """The measures of one or more models as a Markdown table.

    Args:
        results: `run`'s dicts, one per model.
        labels: Column names, one per model; default "I3D (<run>)" style.

    Returns:
        One row per measure with its target, and per model the value, its
        baseline and whether the target is met (`report.faithfulness_table`).
    """
    return report.to_markdown(report.faithfulness_table(results, labels))


class DeletionInsertion:
    """Deletion and insertion curves: frames perturbed or restored in order.

    Deletion perturbs the first k frames of an order, for k = 0..T, and
    scores each clip with the softmax probability of the target class;
    insertion starts from the whole clip perturbed and restores the first k.
    A faithful order's deletion curve falls faster (a smaller area, the mean
    of its T + 1 scores) and its insertion curve rises faster than those of
    random orders. The curve points of a clip run together, in batches of
    `batch_size`.

    Args:
        model: Video classifier whose output is the logits.
        perturbation: `"freeze"` or `"reverse"`, with binary masks.
        batch_size: Perturbed clips per forward pass.

    Raises:
        errors.InputError: An unknown perturbation.

    Example:
        curves = DeletionInsertion(model, "freeze")
        deletion, insertion = curves(video, [order], target_class=3)
    """

    def __init__(self, model: keras.Model, perturbation: str = "freeze",
                 batch_size: int = 64):
        if perturbation not in PERTURBATIONS:
            raise errors.InputError(
                f"unknown perturbation {perturbation!r}; known: "
                f"{sorted(PERTURBATIONS)}")
        perturb = PERTURBATIONS[perturbation]
        self.batch_size = batch_size

        def scores(video, masks, target):
            videos = tf.repeat(video[None], tf.shape(masks)[0], axis=0)
            logits = model(perturb(videos, masks), training=False)
            return tf.nn.softmax(tf.cast(logits, tf.float32))[:, target]

        self._scores = tf.function(scores, reduce_retracing=True)

    def __call__(self, video, orders, target_class: int):
        """Returns `(deletion, insertion)` scores, each `(orders, T + 1)`.

        Args:
            video: `(T, H, W, 3)` float or uint8 in [0, 255] (`run` gives
                the frames `explain` stored, rounded to uint8).
            orders: `(orders, T)` int frame orders, most important first.
            target_class: The class whose probability is scored.
        """
        orders = np.asarray(orders)
        masks = np.concatenate([measures.order_masks(o) for o in orders])
        masks = np.concatenate([masks, 1.0 - masks])
        video = tf.convert_to_tensor(np.asarray(video, np.float32))
        target = tf.constant(target_class, tf.int32)
        scores = np.concatenate([
            self._scores(video, masks[i:i + self.batch_size], target)
            for i in range(0, len(masks), self.batch_size)])
        deletion, insertion = scores.reshape(2, len(orders), -1)
        return deletion, insertion


def sanity_correlations(heatmaps, model: keras.Model, videos, class_ids,
                        **options) -> np.ndarray:
    """Spearman correlations of maps with `model`'s Grad-CAM maps.

    With `model` a copy of the explained architecture with random weights,
    this is Adebayo et al.'s model-randomisation check: maps that explain
    the model should not survive the loss of what it learned.

    Args:
        heatmaps: `(batch, T, H, W)` maps of the explained model.
        model: The model to compare with.
        videos: `(batch, T, H, W, 3)` its input, float in [0, 255].
        class_ids: `(batch,)` classes the maps explain.
        **options: `grad_cam.GradCAM` options (layer, weighting, score,
            upsample, normalize).

    Returns:
        `(batch,)` float; NaN where either map is constant. `model`'s maps
        are rounded to float16 first, the precision `explain` stores.
    """
    cam = grad_cam.GradCAM(model, **options)
    other = cam(videos, class_ids).numpy().astype(np.float16)
    return np.array([measures.spearman(a, b)
                     for a, b in zip(heatmaps, other)])


def _layer_rows(model, config, meta, record, layers, count, tolerance):
    """The spatial measures of each layer of the sweep and of the input
    gradient, on the first `count` clips of the results' split."""
    layer = record["gradcam"]["layer"]
    layers = list(layers or layer_sweep.last_per_resolution(model))
    if layer not in layers:
        layers.append(layer)
    sweep = layer_sweep.LayerSweep(
        model, layers, weighting=record["gradcam"]["weighting"],
        score=record["gradcam"]["score"],
        upsample=record["params"].get("upsample", "linear"),
        normalize=record["params"].get("normalize", "clip"))
    dataset = pipeline.make_dataset(
        config.input.data_dir, meta["split"],
        num_frames=config.input.num_frames,
        image_size=config.input.image_size,
        batch_size=config.interp.batch_size, training=False)
    truths, maps, seen = [], {}, 0
    for batch in dataset.take(-(-count // config.interp.batch_size)):
        batch = {k: v[:count - seen] for k, v in batch.items()}
        target = (batch["label"] if meta["params"]["target"] == "true"
                  else None)
        for name, value in sweep(batch["frames"], target).items():
            maps.setdefault(name, []).extend(value.numpy())
        truths += [{"id": seen + i, "ground_truth": {
            "event": batch["event"][i].numpy(),
            "boxes": batch["boxes"][i].numpy(),
            "box_valid": batch["box_valid"][i].numpy()}}
            for i in range(len(batch["label"]))
            if batch["has_ground_truth"][i]]
        seen += len(batch["label"])
    rows = []
    for name in [*layers, sweep.INPUT_GRADIENT]:
        heatmaps = dict(enumerate(maps[name]))
        point = measures.pooled_pointing_game(truths, heatmaps, tolerance)
        energy = measures.pooled_energy(truths, heatmaps)
        shape = (model.get_layer(name).output.shape[2:4]
                 if name != sweep.INPUT_GRADIENT else None)
        rows.append({
            "layer": name, "cells": list(shape) if shape else None,
            "pointing": point["gradcam"], "centre": point["centre"],
            "energy": energy["energy"], "area": energy["area"],
            "ratio": energy["ratio"], "frames": point["frames"],
            "clips": len(truths)})
    return rows


def _load_clip(results_dir, record):
    path = os.path.join(results_dir, record["gradcam"]["file"])
    try:
        with np.load(path) as data:
            return {"heatmaps": data["heatmaps"].astype(np.float32),
                    "frames": data["frames"]}
    except (OSError, KeyError, ValueError) as error:
        raise errors.InputError(
            f"cannot read Grad-CAM maps {path}: {error}") from None


def _curves(model, objects, clips, random_orders, seed):
    rng = np.random.default_rng(seed)
    curves = {}
    learned, random = [], []
    progress = keras.utils.Progbar(len(objects), unit_name="clip")
    for record in objects:
        name = record["mask"]["perturbation"]
        if name not in curves:
            curves[name] = DeletionInsertion(model, name)
        frames = len(record["mask"]["mask"])
        orders = [measures.frame_order(record["mask"]["mask"])] + [
            rng.permutation(frames) for _ in range(random_orders)]
        deletion, insertion = curves[name](
            clips[record["id"]]["frames"], orders, record["target_class"])
        # Per clip: (deletion, insertion) x (T + 1) points.
        learned.append(np.stack([deletion[0], insertion[0]]))
        random.append(np.stack([deletion[1:].mean(0),
                                insertion[1:].mean(0)]))
        progress.add(1)
    out = {}
    for i, key in enumerate(("deletion", "insertion")):
        if not objects:
            out[key] = dict.fromkeys(("learned", "random", "learned_curve",
                                      "random_curve"))
            continue
        learned_curve = np.mean([c[i] for c in learned], axis=0)
        random_curve = np.mean([c[i] for c in random], axis=0)
        out[key] = {"learned": learned_curve.mean(),
                    "random": random_curve.mean(),
                    "learned_curve": learned_curve.tolist(),
                    "random_curve": random_curve.tolist()}
    return out


def _sanity(config, num_classes, records, clips, seed, batch_size=8):
    keras.utils.set_random_seed(seed + 1)
    random_model = train.build_model(config, num_classes)
    groups = {}
    for record in records:
        options = (("layer", record["gradcam"]["layer"]),
                   ("weighting", record["gradcam"]["weighting"]),
                   ("score", record["gradcam"]["score"]),
                   ("upsample", record["params"].get("upsample", "linear")),
                   ("normalize", record["params"].get("normalize", "clip")))
        groups.setdefault(options, []).append(record)
    correlations = []
    for options, group in groups.items():
        for start in range(0, len(group), batch_size):
            batch = group[start:start + batch_size]
            correlations.extend(sanity_correlations(
                np.stack([clips[r["id"]]["heatmaps"] for r in batch]),
                random_model,
                np.stack([clips[r["id"]]["frames"] for r in batch]),
                [r["target_class"] for r in batch], **dict(options)))
    correlations = np.array(correlations)
    finite = correlations[np.isfinite(correlations)]
    return {"spearman": measures.finite_mean(finite),
            "spearman_std": finite.std() if len(finite) else np.nan,
            "clips": len(finite),
            "constant_maps": int(np.sum(~np.isfinite(correlations)))}
