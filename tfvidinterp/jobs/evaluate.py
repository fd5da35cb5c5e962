"""Evaluates a trained model on a split, forwards and time-reversed.

The reversed pass is the paper's "rev." rows (Table 1): a model that uses
temporal order loses accuracy when every clip is played backwards.
"""

import io
import json

import keras
import numpy as np
import tensorflow as tf
from matplotlib import figure as mpl_figure

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import pipeline
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train
from tfvidinterp.measures import classification


def predict(model, dataset):
    """Logits on every clip of `dataset`, as played and time-reversed.

    Returns:
        `(logits, reversed_logits, labels, ids)` NumPy arrays.
    """
    forward = tf.function(lambda x: model(x, training=False))
    outputs = {"logits": [], "reversed": [], "labels": [], "ids": []}
    progress = keras.utils.Progbar(None, unit_name="batch")
    batches = 0
    for batches, batch in enumerate(dataset, start=1):
        frames = batch["frames"]
        outputs["logits"].append(forward(frames).numpy())
        outputs["reversed"].append(forward(tf.reverse(frames, [1])).numpy())
        outputs["labels"].append(batch["label"].numpy())
        outputs["ids"].append(batch["id"].numpy())
        progress.update(batches)
    # The number of batches is unknown up front: end the bar's line here.
    progress.update(batches, finalize=True)
    return tuple(
        np.concatenate(outputs[k])
        for k in ("logits", "reversed", "labels", "ids")
    )


def run(config, workdir: str, split: str | None = None) -> dict:
    """Evaluates the latest checkpoint of `workdir` on `split`.

    Writes `workdir/eval/<split>.json` and TensorBoard summaries under
    `workdir/tb/evaluate`.

    Args:
        config: A config overriding the run's recorded one (its model must
            be the run's), or None for the recorded one.
        workdir: The training run's directory.
        split: Split to evaluate; defaults to `config.eval.split`.

    Returns:
        `{"split", "step", "forward": report, "reversed": report}`, each
        report as `classification.classification_report` gives it.

    Raises:
        errors.InputError: As `train.restore`, or a missing split.
    """
    restored = train.restore(config, workdir)
    config = restored.config
    split = split or config.eval.split
    _check_split(restored.info, split, config.input.data_dir)
    dataset = pipeline.from_config(
        config.input, split, batch_size=config.eval.batch_size
    )
    logits, reversed_logits, labels, _ = predict(restored.model, dataset)
    classes = restored.info["classes"]
    result = {
        "split": split,
        "step": restored.step,
        "forward": classification.classification_report(
            logits, labels, classes
        ),
        "reversed": classification.classification_report(
            reversed_logits, labels, classes
        ),
    }
    files.write_json(rundir.path(workdir, rundir.EVAL, f"{split}.json"), result)
    _write_summaries(
        rundir.path(workdir, rundir.TENSORBOARD, "evaluate"), result, classes
    )
    return result


def _check_split(info, split, data_dir):
    """Refuses a split the dataset lacks or that has no clips (the reports
    of no clips would be empty)."""
    splits = info.get("splits", {})
    # A split listed without a count is left to the pipeline.
    if split in splits and splits[split].get("num_clips", 1):
        return
    raise errors.InputError(
        f"split {split!r} of dataset {data_dir} "
        f"{'has no clips' if split in splits else 'is missing'}; "
        f"choose another --split (its splits: {', '.join(splits) or 'none'})"
    )


def _write_summaries(logdir, result, classes):
    writer = tf.summary.create_file_writer(logdir)
    split = result["split"]
    with writer.as_default(step=result["step"]):
        for direction in ("forward", "reversed"):
            report = result[direction]
            for name in ("top1", "top5", "macro_f1"):
                tf.summary.scalar(f"{split}/{direction}/{name}", report[name])
        tf.summary.text(f"{split}/f1", f1_table(result, classes))
        tf.summary.image(
            f"{split}/confusion_matrix",
            _confusion_image(
                np.array(result["forward"]["confusion_matrix"]), classes
            )[None],
        )
    writer.flush()


def f1_table(result, classes):
    """Per-class F1, forward and reversed, as a Markdown table."""
    rows = ["| class | F1 | F1 (rev.) |", "|---|---|---|"]
    for name in classes:
        rows.append(
            f"| {name} | {result['forward']['f1'][name]:.3f} | "
            f"{result['reversed']['f1'][name]:.3f} |"
        )
    return "\n".join(rows)


def _confusion_image(confusion, classes):
    size = max(4, 0.35 * len(classes) + 2)
    # The object-oriented API needs no pyplot backend on a headless machine.
    figure = mpl_figure.Figure(figsize=(size, size), dpi=80)
    axes = figure.subplots()
    axes.imshow(confusion, cmap="Blues")
    ticks = range(len(classes)) if len(classes) <= 40 else []
    axes.set_xticks(list(ticks), [classes[i] for i in ticks], rotation=90)
    axes.set_yticks(list(ticks), [classes[i] for i in ticks])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return tf.io.decode_png(buffer.getvalue(), channels=3)


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
    if not all(
        k in result.get(d, {}) for d in ("forward", "reversed") for k in keys
    ):
        raise errors.InputError(f"not an evaluate JSON: {path}")
    return result
