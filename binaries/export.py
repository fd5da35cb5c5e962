r"""Exports a trained run or a Keras model file as SavedModels for serving.

Examples (--config, if given, overrides the run's config.json; a model file
needs one, whose interp.layer names the Grad-CAM layer):
    python -m binaries.export --workdir=runs/i3d_synthetic
    python -m binaries.export --model=my_model.keras \
        --config=configs/keras_model.py --output_dir=exports/my_model

Writes <workdir>/export/classifier (or <output_dir>/classifier), loadable
with tf.saved_model.load alone: its endpoints take (batch, frames, H, W, 3)
uint8 or float frames and return `logits` and `probabilities`. Also writes
export/explainer, whose extra `explain` and `explain_uint8` endpoints add
Grad-CAM `heatmaps` (batch, T, H, W) and the explained `class_ids`.
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import export

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Overrides the run's config.json.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
_MODEL = flags.DEFINE_string(
    "model", None, "A .keras file, its classes in <name>.classes.txt."
)
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", None, "Default: <workdir>/export."
)
_PRECISION = cli.define_precision()


def main(argv):
    del argv
    for path in export.run(
        _CONFIG.value,
        _WORKDIR.value,
        model=_MODEL.value,
        precision=_PRECISION.value,
        output_dir=_OUTPUT_DIR.value,
    ).values():
        print(f"SavedModel written to {path}")


if __name__ == "__main__":
    cli.run(main)
