"""The main job on the embedded synthetic data, from nothing to a report.

python -m binaries.demo --workdir=runs/demo  # re-running resumes
"""

from absl import flags
from absl import logging

from configs import clstm_synthetic
from configs import compare
from configs import i3d_synthetic
from tfvidinterp import cli
from tfvidinterp.jobs import demo

_WORKDIR = flags.DEFINE_string(
    "workdir", "runs/demo", "The demo's directory (empty or a demo's)."
)
_CLIPS = flags.DEFINE_integer(
    "clips", 8, "Test clips to explain with each model and mask.", lower_bound=1
)
_SYNTHETIC_CLIPS = flags.DEFINE_string(
    "synthetic_clips",
    None,
    "Train,validation,test clips of the synthetic dataset (default "
    f"{','.join(map(str, demo.SYNTHETIC_CLIPS))}; with --smoke "
    f"{','.join(map(str, demo.SMOKE_SYNTHETIC_CLIPS))}).",
)
_SEED = flags.DEFINE_integer(
    "seed", 0, "Seed of the synthetic dataset and of both trainings."
)
_FRESH = flags.DEFINE_boolean(
    "fresh", False, "Delete the demo's outputs in --workdir first."
)
_SMOKE = flags.DEFINE_boolean(
    "smoke", False, "Tiny models, clips and dataset: a check in minutes."
)


def main(argv):
    del argv
    if not flags.FLAGS["verbosity"].present:
        # Keeps the stages' lines readable: exporting logs hundreds of
        # tensor names per signature at INFO.
        logging.set_verbosity(logging.WARNING)
    arg = "smoke" if _SMOKE.value else None
    default = demo.SMOKE_SYNTHETIC_CLIPS if arg else demo.SYNTHETIC_CLIPS
    configs = {"i3d": i3d_synthetic, "clstm": clstm_synthetic}
    demo.run(
        _WORKDIR.value,
        {name: module.get_config(arg) for name, module in configs.items()},
        compare.get_config(arg),
        clips=_CLIPS.value,
        synthetic_clips=_SYNTHETIC_CLIPS.value or default,
        seed=_SEED.value,
        fresh=_FRESH.value,
    )


if __name__ == "__main__":
    cli.run(main)
