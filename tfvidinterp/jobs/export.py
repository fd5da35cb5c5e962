"""SavedModel export: raw video frames in, named logits and probabilities out.

The SavedModel loads with `tf.saved_model.load` alone (no tfvidinterp, no
Keras needed) and has two endpoints, also exported as signatures:

* `serve`: float32 frames `(batch, frames, height, width, 3)` RGB in
  [0, 255] (also the `serving_default` signature);
* `serve_uint8`: the same frames as uint8.

Both return `{"logits": (batch, classes), "probabilities": (batch, classes)}`,
float32. Batch and frame count may vary; height and width are fixed when the
model's are. When the model has a static clip length T (or `num_frames` is
given), every clip is first resampled to T frames with the data pipeline's
`uniform` rule: frame i of T is the middle of the i-th of T equal segments
of the clip (frames repeat when the clip is shorter).
"""

import os
from typing import Callable

import keras
import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import interp
from tfvidinterp import precision as precision_lib
from tfvidinterp.data import video_ops
from tfvidinterp.jobs import explain
from tfvidinterp.jobs import modelfile
from tfvidinterp.jobs import rundir

SERVE = "serve"
UINT8_SUFFIX = "_uint8"


def export_saved_model(
    model: keras.Model,
    path: str,
    *,
    num_frames: int | None = None,
    endpoints: dict[str, Callable] | None = None,
) -> str:
    """Exports `model` as a serving SavedModel at `path`, atomically.

    The SavedModel is written to a temporary directory next to `path` and
    renamed into place, so `path` never holds a half-written model; an
    existing SavedModel at `path` is replaced.

    Args:
        model: A video classifier (one input, frames in [0, 255]); a softmax
            head is served from its logits (`interp.logits_model`).
        path: Output directory.
        num_frames: Clip length to resample every input to. Defaults to the
            model's static T; None for a model of any length means frames
            pass through unchanged.
        endpoints: Optional extra endpoints, name -> fn. Each `fn` takes
            float32 frames `(batch, T, height, width, 3)` in [0, 255] (already
            resampled) and returns a dict of tensors; it is exported as
            `name` and `name + "_uint8"` (see `add_video_endpoints`).

    Returns:
        `path`.

    Raises:
        errors.InputError: If `num_frames` contradicts the model's static T,
            or `path` is an existing file.
    """
    archive = keras.export.ExportArchive()
    # No `archive.track(model)`: the endpoints already capture every variable
    # they use, and tracking walks the whole layer tree, which doubles the
    # export time of I3D (it would only be needed for lookup tables).

    # A softmax head's own output would be softmaxed twice below.
    logits_model = interp.logits_model(model)

    def predict(frames):
        logits = tf.cast(logits_model(frames, training=False), tf.float32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    num_frames = _clip_length(model, num_frames)
    for name, fn in {SERVE: predict, **(endpoints or {})}.items():
        add_video_endpoints(archive, name, fn, model, num_frames=num_frames)
    files.save_directory_atomic(
        path, lambda directory: archive.write_out(directory, verbose=False)
    )
    return path


def run(
    config,
    run_dir: str | None = None,
    *,
    model: str | None = None,
    output_dir: str | None = None,
    precision: str = precision_lib.RUN,
) -> dict[str, str]:
    """Exports a run's latest checkpoint, or a model file, as two
    SavedModels.

    Args:
        config: As `modelfile.load` (`interp` sets the explainer's
            Grad-CAM): for a run, None for its recorded one.
        run_dir: The run's working directory, or None with `model`.
        model: A Keras model file (`tfvidinterp.jobs.modelfile`).
        output_dir: Default: `<run_dir>/export`; required with `model`.
        precision: As `modelfile.load`: a run's model computes in the
            precision it trained in, as its `model.keras` does.

    Returns:
        {"classifier": path, "explainer": path} under `output_dir`: the
        classifier serves `serve`; the explainer adds `explain`, Grad-CAM
        heatmaps at `config.interp.layer` for the predicted classes.

    Raises:
        errors.InputError: As `modelfile.load`, a bad Grad-CAM layer, or no
            `output_dir` for a model file.
    """
    if output_dir is None and model is not None:
        raise errors.InputError(
            "give --output_dir: where the SavedModels of --model go"
        )
    loaded = modelfile.load(config, run_dir, model=model, precision=precision)
    paths = saved_model_paths(run_dir, output_dir)
    export_saved_model(loaded.model, paths["classifier"])
    export_saved_model(
        loaded.model,
        paths["explainer"],
        endpoints={"explain": explainer_endpoint(loaded.model, loaded.config)},
    )
    return paths


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
    cam = explain.make_grad_cam(model, config.interp)

    def explain_frames(frames):
        predicted = tf.fill(tf.shape(frames)[:1], -1)
        out = cam.explain_in_graph(frames, predicted)
        return {
            "logits": out["logits"],
            "probabilities": tf.nn.softmax(out["logits"]),
            "heatmaps": out["heatmaps"],
            "class_ids": out["class_ids"],
        }

    return explain_frames


def saved_model_paths(
    run_dir: str | None, output_dir: str | None = None
) -> dict[str, str]:
    """Where `run` writes the SavedModels: under `output_dir`, default
    `<run_dir>/export`."""
    output_dir = output_dir or rundir.path(run_dir, rundir.EXPORT)
    return {
        kind: os.path.join(output_dir, kind)
        for kind in ("classifier", "explainer")
    }


def add_video_endpoints(
    archive: keras.export.ExportArchive,
    name: str,
    fn: Callable,
    model: keras.Model,
    *,
    num_frames: int | None = None,
) -> None:
    """Adds endpoints `name` (float32 frames) and `name_uint8` to `archive`.

    This is the extension point for more signatures (e.g. one that also
    returns Grad-CAM maps): both endpoints take frames
    `(batch, frames, height, width, 3)`, cast them to float32, resample them
    to `num_frames` if given, and call `fn`.

    Args:
        archive: The `keras.export.ExportArchive` being built.
        name: Endpoint name of the float32 variant.
        fn: Takes float32 frames `(batch, T, height, width, 3)` in [0, 255]
            and returns a dict of tensors; traced as a `tf.function`.
        model: The model whose input fixes height and width (None = any).
        num_frames: Clip length T to resample to, or None to keep the input's.
    """
    shape = (None, None, *model.input.shape[2:4], 3)

    def serve(frames):
        if num_frames is not None:
            frames = resample_frames(frames, num_frames)
        return fn(frames)

    serve_float = archive.add_endpoint(
        name, serve, [tf.TensorSpec(shape, tf.float32, "frames")]
    )
    # Calling the float endpoint traces the model once, not twice: tracing
    # dominates the export time of a deep model.
    archive.add_endpoint(
        name + UINT8_SUFFIX,
        lambda frames: serve_float(tf.cast(frames, tf.float32)),
        [tf.TensorSpec(shape, tf.uint8, "frames")],
    )


def resample_frames(frames: tf.Tensor, num_frames: int) -> tf.Tensor:
    """Samples `num_frames` frames covering each clip, as `uniform` sampling.

    Uses `video_ops.sample_indices`: frame i is the middle of the i-th of
    `num_frames` equal segments, `floor((i + 1/2) * n / num_frames)` of the n
    input frames. n == num_frames keeps the clip; a shorter clip repeats
    frames.

    Args:
        frames: `(batch, n, height, width, channels)`, n >= 1.
        num_frames: Output clip length.

    Returns:
        `(batch, num_frames, height, width, channels)`, same dtype.
    """
    indices = video_ops.sample_indices(tf.shape(frames)[1], num_frames)
    return tf.gather(frames, indices, axis=1)


def _clip_length(model, num_frames):
    static = model.input.shape[1]
    if num_frames is not None and static is not None and num_frames != static:
        raise errors.InputError(
            f"num_frames={num_frames} but the model takes {static} frames"
        )
    return num_frames or static
