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
from tfvidinterp import precision as precision_lib
from tfvidinterp.data import pipeline
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import rundir
from tfvidinterp.measures import classification


def predict(model, dataset):
    """Logits on every clip of `dataset`, as played and time-reversed.

    Returns:
        `(logits, reversed_logits, labels, ids)` NumPy arrays.
    """
    # float32 whatever the model computes in (a model file's head may be
    # bfloat16), so that evaluations of any precision compare.
    forward = tf.function(
        lambda x: tf.cast(model(x, training=False), tf.float32)
    )
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


def run(
    config,
    workdir: str | None = None,
    split: str | None = None,
    *,
    model: str | None = None,
    data_dir: str | None = None,
    output_dir: str | None = None,
    precision: str = precision_lib.RUN,
) -> dict:
    """Evaluates a run's latest checkpoint, or a model file, on `split`.

    Writes `<output_dir>/eval/<split>.json` and TensorBoard summaries under
    `<output_dir>/tb/evaluate`.

    Args:
        config: As `modelfile.load`: for a run, None for its recorded one.
        workdir: The training run's directory, or None with `model`.
        split: Split to evaluate; defaults to `config.eval.split`.
        model: A Keras model file (`tfvidinterp.jobs.modelfile`).
        data_dir: The dataset; default `config.input.data_dir`.
        output_dir: Default: `workdir`; required with `model`.
        precision: As `modelfile.load` (a run's: as it trained).

    Returns:
        `{"split", "step", "forward": report, "reversed": report}`, each
        report as `classification.classification_report` gives it; `step`
        is None for a model file.

    Raises:
        errors.InputError: As `modelfile.load`, a dataset of other classes
            than the model's, a missing split, or no `output_dir`.
    """
    output_dir = output_dir or workdir
    if output_dir is None and model is not None:
        raise errors.InputError(
            "give --output_dir: where the results of --model go"
        )
    loaded = modelfile.load(
        config, workdir, model=model, data_dir=data_dir, precision=precision
    )
    config = loaded.config
    split = split or config.eval.split
    info = modelfile.read_dataset(config, loaded.source, loaded.classes)
    check_split(info, split, config.input.data_dir)
    dataset = pipeline.from_config(
        config.input, split, batch_size=config.eval.batch_size
    )
    logits, reversed_logits, labels, _ = predict(loaded.model, dataset)
    result = {"split": split, "step": loaded.step}
    for key, values in (("forward", logits), ("reversed", reversed_logits)):
        result[key] = classification.classification_report(
            values, labels, loaded.classes
        )
    _write(output_dir, result, loaded.classes)
    return result


def check_split(info, split, data_dir):
    """Refuses a split the dataset lacks or that has no clips (the reports
    of no clips would be empty).

    Args:
        info: The dataset's `dataset_info.json` contents.
        split: The split to evaluate.
        data_dir: The dataset's directory, for the message.

    Raises:
        errors.InputError: The split is missing or empty.
    """
    splits = info.get("splits", {})
    # A split listed without a count is left to the pipeline.
    if split in splits and splits[split].get("num_clips", 1):
        return
    raise errors.InputError(
        f"split {split!r} of dataset {data_dir} "
        f"{'has no clips' if split in splits else 'is missing'}; "
        f"choose another --split (its splits: {', '.join(splits) or 'none'})"
    )


def _write(output_dir, result, classes):
    """Writes `eval/<split>.json` and the TensorBoard summaries."""
    split = result["split"]
    files.write_json(
        rundir.path(output_dir, rundir.EVAL, f"{split}.json"), result
    )
    _write_summaries(
        rundir.path(output_dir, rundir.TENSORBOARD, "evaluate"),
        result,
        classes,
    )


def _write_summaries(logdir, result, classes):
    writer = tf.summary.create_file_writer(logdir)
    split = result["split"]
    # A model file has no training step: its summaries are at step 0.
    with writer.as_default(step=result["step"] or 0):
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
