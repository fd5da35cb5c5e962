"""Measures whether a model's explanations are right, on any explained clips.

Deletion and insertion curves in the mask's frame order and the
model-randomisation sanity check (Adebayo et al., "Sanity Checks for
Saliency Maps", NeurIPS 2018, https://arxiv.org/abs/1810.03292) need only
the model and the clips. Synthetic clips also know their event window and
object boxes, so their explanations are checked against them too
(docs/design.md): temporal IoU of the learned masks with the window, the
Grad-CAM pointing game and energy in the boxes, and the Grad-CAM time
profile; on clips without ground truth (a split of real videos, video
files) these are reported as needing it. Each measure comes with a
baseline; the pure measures are in `tfvidinterp.measures` (`temporal`,
`spatial`, `targets`).
"""

import os

import keras
import numpy as np
from absl import logging

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import precision as precision_lib
from tfvidinterp.data import synthetic
from tfvidinterp.interp import deletion as deletion_curves
from tfvidinterp.interp import grad_cam
from tfvidinterp.interp import sanity as sanity_check
from tfvidinterp.jobs import faithfulness_spatial
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import resultsdir
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train
from tfvidinterp.measures import statistics
from tfvidinterp.measures import targets
from tfvidinterp.measures import temporal
from tfvidinterp.report import faithfulness_tables
from tfvidinterp.report import tables

# The measures that compare an explanation with the ground truth.
NEEDS_GROUND_TRUTH = (
    "mask_iou",
    "pointing_game",
    "energy",
    "time_profile",
    "layers",
)


def run(
    config,
    workdir: str | None = None,
    results_dir: str | None = None,
    *,
    model: str | None = None,
    data_dir: str | None = None,
    seed: int = 0,
    random_orders: int = 5,
    tolerance: int | None = None,
    sanity: bool = True,
    spatial_clips: int = 48,
    layers=None,
    precision: str = precision_lib.RUN,
) -> dict:
    """Measures the explanations in `results_dir` (default: `explain`'s;
    required with `model`) of the run in `workdir` or the Keras file
    `model` (`config`, None for the run's, `data_dir` and `precision`: as
    `modelfile.load` takes them) and writes the measures there.

    Every measure runs on the records that allow it (`_groups`): without
    ground truth, only deletion, insertion and the sanity check, the others
    named in `needs_ground_truth` and None. The spatial measures use the
    first `spatial_clips` clips of the split, the Grad-CAM `layers`
    (default `layer_sweep.last_per_resolution`; and the explained one), the
    input gradient, and boxes grown by `tolerance` px. Deletion and
    insertion compare the mask's frame order with `random_orders` random
    ones drawn with `seed`; the sanity check (if `sanity`) uses every
    explained clip and `_random_model`, drawn after the other measures
    (which thus do not depend on `sanity`). Returns
    `<results_dir>/faithfulness.json` (docs/formats.md); foreign results
    or bad options raise `InputError`.
    """
    _check_options(random_orders, spatial_clips, tolerance)
    loaded, results_dir, (meta, records, clips) = _load(
        config, workdir, results_dir, model, data_dir, precision
    )
    config, network = loaded.config, loaded.model
    groups = _groups(records, meta["classes"])
    objects = groups["objects"]
    heatmaps = {i: clip["heatmaps"] for i, clip in clips.items()}
    result = {
        "run": meta.get("run"),
        "model_name": meta["model_name"],
        "results_dir": results_dir,
        **_counts(groups),
        "seed": seed,
        "random_orders": random_orders,
        "mask_iou": temporal.pooled_mask_iou(objects),
        **faithfulness_spatial.measures(
            network, config, clips, groups, layers, spatial_clips, tolerance
        ),
        "time_profile": temporal.pooled_time_profile(objects, heatmaps),
        **_curves(network, groups["curves"], clips, random_orders, seed),
        "sanity": _sanity(loaded, model, records, clips, seed, sanity),
    }
    result["targets"] = targets.targets(result)
    result = files.jsonable(result, digits=4)
    files.write_json(os.path.join(results_dir, resultsdir.FAITHFULNESS), result)
    return result


def _counts(groups):
    """The clips each measure used, their perturbation, and the measures
    that could not be made for want of ground truth."""
    truths = groups["truths"]
    perturbations = {r["mask"]["perturbation"] for r in groups["curves"]}
    return {
        "explained_clips": len(groups["all"]),
        "clips": len(truths),
        "object_clips": len(groups["objects"]),
        "curve_clips": len(groups["curves"]),
        "perturbation": ",".join(sorted(perturbations)) or None,
        "needs_ground_truth": [] if truths else list(NEEDS_GROUND_TRUTH),
    }


def _groups(records, classes):
    """The records each measure uses: `all`; `truths`, those with ground
    truth; `objects`, those of object classes among them (a pan's shifted
    view outlasts its window); `curves`, all but the pans, for deletion
    and insertion."""
    truths = [r for r in records if r.get("ground_truth")]
    pans = {
        r["id"] for r in truths if classes[r["label"]] in synthetic.PAN_CLASSES
    }
    return {
        "all": records,
        "truths": truths,
        "objects": [r for r in truths if r["id"] not in pans],
        "curves": [r for r in records if r["id"] not in pans],
    }


def summary_text(result) -> str:
    """`run`'s result as text: the measures and (with ground truth) layer
    tables in Markdown and a `MISSED <target>: <what to try>` line per
    missed target."""
    layers = [tables.to_markdown(faithfulness_tables.layer_table([result]))]
    return "\n".join(
        [
            markdown_table([result]),
            *(layers if result["layers"] else []),
            *(f"MISSED {missed}" for missed in targets.missed_targets(result)),
        ]
    )


def _default_results_dir(config, workdir):
    """`explain`'s default results directory of the run."""
    split = config.interp.split or config.eval.split
    return rundir.path(workdir, rundir.EXPLAIN, split)


def _check_options(random_orders, spatial_clips, tolerance):
    if random_orders < 1:
        raise errors.InputError(
            f"random_orders must be >= 1, got {random_orders}"
        )
    if spatial_clips < 1:
        raise errors.InputError(
            f"spatial_clips must be >= 1, got {spatial_clips}"
        )
    if tolerance is not None and tolerance < 0:
        raise errors.InputError(f"tolerance must be >= 0, got {tolerance}")


def _read(results_dir, config):
    """`(meta, records, {id: read_gradcam(...)})` of a results directory
    of `config`'s model."""
    results = resultsdir.load_results(results_dir)
    meta, records = results["meta"], results["records"]
    if meta.get("model_name") != config.model_name:
        raise errors.InputError(
            f"{results_dir} explains a {meta.get('model_name')} model, the "
            f"config is a {config.model_name}"
        )
    clips = {r["id"]: resultsdir.read_gradcam(results_dir, r) for r in records}
    return meta, records, clips


def _load(config, workdir, results_dir, model, data_dir, precision):
    """`(modelfile.Loaded, results_dir, _read's (meta, records, clips))`
    of a run or a model file, after checking that the results explain it."""
    if results_dir is None and workdir is None and model is not None:
        raise errors.InputError(
            "give --results_dir: where explain wrote the results of --model"
        )
    loaded = modelfile.load(
        config, workdir, model=model, data_dir=data_dir, precision=precision
    )
    results_dir = results_dir or _default_results_dir(loaded.config, workdir)
    meta, records, clips = _read(results_dir, loaded.config)
    _check_model(loaded, results_dir, meta, clips)
    return loaded, results_dir, (meta, records, clips)


def _check_model(loaded, results_dir, meta, clips):
    """Refuses a model (`modelfile.Loaded`) other than the one the results
    explained: another checkpoint step, class count or clip shape."""
    model, classes = loaded.model, meta["classes"]
    if "step" not in meta:
        logging.warning(
            "%s records no checkpoint step (an older version's results): "
            "they are taken to explain step %s",
            results_dir,
            loaded.step,
        )
    elif meta["step"] != loaded.step:
        raise errors.InputError(
            f"{results_dir} explains the checkpoint of step {meta['step']}, "
            f"the run's latest is of step {loaded.step}; explain it again "
            "into another results directory"
        )
    if model.output.shape[-1] != len(classes):
        raise errors.InputError(
            f"{results_dir} has {len(classes)} classes, the model "
            f"{model.output.shape[-1]}"
        )
    grad_cam.check_inputs(model, next(iter(clips.values()))["frames"][None])


def _random_model(loaded, model, seed):
    """The model-randomisation check's model: `loaded`'s architecture with
    weights drawn after `set_random_seed(seed + 1)`; a run's is built from
    its config in the precision of `loaded`'s, a model file's (`model`, a
    path) cloned with its layers' own initialisers and dtypes."""
    keras.utils.set_random_seed(seed + 1)
    if model is not None:
        return keras.models.clone_model(loaded.model)
    with precision_lib.scope(loaded.precision):
        return train.build_model(loaded.config, loaded.model.output.shape[-1])


def markdown_table(results, labels=None) -> str:
    """The measures of one or more models as a Markdown table.

    Args:
        results: `run`'s dicts, one per model.
        labels: Column names, one per model; default "I3D (<run>)" style.

    Returns:
        One row per measure with its target, and per model the value, its
        baseline and whether the target is met
        (`faithfulness_tables.faithfulness_table`).
    """
    return tables.to_markdown(
        faithfulness_tables.faithfulness_table(results, labels)
    )


def _curves(model, objects, clips, random_orders, seed):
    rng = np.random.default_rng(seed)
    curves = {}
    learned, random = [], []
    progress = keras.utils.Progbar(len(objects), unit_name="clip")
    for record in objects:
        name = record["mask"]["perturbation"]
        if name not in curves:
            curves[name] = deletion_curves.DeletionInsertion(model, name)
        frames = len(record["mask"]["mask"])
        orders = [temporal.frame_order(record["mask"]["mask"])] + [
            rng.permutation(frames) for _ in range(random_orders)
        ]
        deletion, insertion = curves[name](
            clips[record["id"]]["frames"], orders, record["target_class"]
        )
        # Per clip: (deletion, insertion) x (T + 1) points.
        learned.append(np.stack([deletion[0], insertion[0]]))
        random.append(np.stack([deletion[1:].mean(0), insertion[1:].mean(0)]))
        progress.add(1)
    out = {}
    for i, key in enumerate(("deletion", "insertion")):
        if not objects:
            out[key] = dict.fromkeys(
                ("learned", "random", "learned_curve", "random_curve")
            )
            continue
        learned_curve = np.mean([c[i] for c in learned], axis=0)
        random_curve = np.mean([c[i] for c in random], axis=0)
        out[key] = {
            "learned": learned_curve.mean(),
            "random": random_curve.mean(),
            "learned_curve": learned_curve.tolist(),
            "random_curve": random_curve.tolist(),
        }
    return out


def _sanity(loaded, model, records, clips, seed, run, batch_size=8):
    """The model-randomisation check of the records' maps with
    `_random_model`; all None unless `run`."""
    if not run:
        return dict.fromkeys(
            ("spearman", "spearman_std", "clips", "constant_maps")
        )
    random_model = _random_model(loaded, model, seed)
    groups = {}
    for record in records:
        options = (
            ("layer", record["gradcam"]["layer"]),
            ("weighting", record["gradcam"]["weighting"]),
            ("score", record["gradcam"]["score"]),
            ("upsample", record["params"].get("upsample", "linear")),
            ("normalize", record["params"].get("normalize", "clip")),
        )
        groups.setdefault(options, []).append(record)
    correlations = []
    for options, group in groups.items():
        for start in range(0, len(group), batch_size):
            batch = group[start : start + batch_size]
            correlations.extend(
                sanity_check.sanity_correlations(
                    np.stack([clips[r["id"]]["heatmaps"] for r in batch]),
                    random_model,
                    np.stack([clips[r["id"]]["frames"] for r in batch]),
                    [r["target_class"] for r in batch],
                    **dict(options),
                )
            )
    correlations = np.array(correlations)
    finite = correlations[np.isfinite(correlations)]
    return {
        "spearman": statistics.finite_mean(finite),
        "spearman_std": finite.std() if len(finite) else np.nan,
        "clips": len(finite),
        "constant_maps": int(np.sum(~np.isfinite(correlations))),
    }
