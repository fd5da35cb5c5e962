"""Exports a trained run as a SavedModel for serving.

Example (--config, if given, overrides the run's config.json):
    python -m binaries.export --workdir=runs/i3d_synthetic

Writes <workdir>/export/classifier, loadable with tf.saved_model.load alone:
its endpoints take (batch, frames, H, W, 3) uint8 or float frames and return
`logits` and `probabilities`. Also writes <workdir>/export/explainer, whose
extra `explain` and `explain_uint8` endpoints add Grad-CAM `heatmaps`
(batch, T, H, W) and the explained `class_ids` (the predictions).
"""

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import export

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Overrides the run's config.json.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
flags.mark_flags_as_required(["workdir"])


def main(argv):
    del argv
    for path in export.run(_CONFIG.value, _WORKDIR.value).values():
        print(f"SavedModel written to {path}")


if __name__ == "__main__":
    cli.run(main)
