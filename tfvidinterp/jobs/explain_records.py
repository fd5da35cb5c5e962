"""What `explain.run` writes of the clips it explains: a results
directory's `meta.json` (what explained which data, with every parameter
an explanation depends on), and each batch's records and Grad-CAM files
(format: `tfvidinterp.jobs.resultsdir`).
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import precision as precision_lib
from tfvidinterp.jobs import resultsdir


def meta(config, info, workdir, split, explainer, masker):
    """The results directory's `meta.json`: what explained which data
    (`info`: the dataset's `dataset_info.json`, None for a video file)."""
    return {
        "run": explainer.name or os.path.basename(os.path.normpath(workdir)),
        "model_name": config.model_name,
        "step": explainer.step,
        "dataset": explainer.dataset if info is None else info.get("source"),
        "classes": explainer.classes or info["classes"],
        "split": split,
        "params": params(explainer.cam, masker, config.interp.target),
        "precision": explainer.precision,
    }


def write_meta(output_dir, meta):
    """Writes `meta` (`_resumable_meta`'s) as `output_dir`'s `meta.json`."""
    resultsdir.write_meta(output_dir, _resumable_meta(output_dir, meta))


def _resumable_meta(output_dir, meta):
    """`meta` as `output_dir` records it, after refusing a directory of
    results of another checkpoint step or precision: they would mix two
    models'."""
    old = files.read_json_object(os.path.join(output_dir, resultsdir.META))
    if old is None:
        return meta
    if "precision" not in old:
        # An older version's results: a run's model computed in float32.
        if meta["precision"] not in (None, precision_lib.FLOAT32):
            raise errors.InputError(
                f"{output_dir} holds results computed in float32, the model "
                f"now computes in {meta['precision']}; explain with "
                "--precision=float32 or choose another output_dir"
            )
        meta = {key: value for key, value in meta.items() if key != "precision"}
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


def params(cam, masker, target):
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


def explain_batch(cam, masker, meta, output_dir, batch):
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
