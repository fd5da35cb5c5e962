r"""Grad-CAM and masks of a run's (or .keras file's) clips; re-runs resume.

    python -m binaries.explain --workdir=runs/i3d_synthetic \
        --max_clips=32  # or --video=clip.mp4; --config overrides config.json
    python -m binaries.explain --workdir=runs/i3d_synthetic \
        --videos=my_videos/ --output_dir=runs/my_videos  # or a CSV, a glob
    python -m binaries.explain --model=my_model.keras \
        --config=configs/keras_model.py --data_dir=data/mine --split=test \
        --output_dir=runs/my_model/explain  # default: <workdir>/explain/<split>
"""

import json

from absl import flags
from ml_collections import config_flags

from tfvidinterp import cli
from tfvidinterp.jobs import explain

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Overrides the run's config.json.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's dir.")
_MODEL = flags.DEFINE_string("model", None, "Or a .keras model file.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Dataset of the --split.")
_SPLIT = flags.DEFINE_string("split", None, "Default: interp/eval.split.")
_IDS = flags.DEFINE_string("ids", None, "Clip ids: a,b,c or a file of lines.")
_VIDEO = flags.DEFINE_string("video", None, "A video to explain, not a split.")
_VIDEOS = flags.DEFINE_string("videos", None, "Or a dir of videos, CSV, glob.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "The results dir.")
_SHARD_INDEX = flags.DEFINE_integer("shard_index", None, "Default: TF_CONFIG.")
_NUM_SHARDS = flags.DEFINE_integer("num_shards", None, "Workers sharing clips.")
_MAX_CLIPS = flags.DEFINE_integer("max_clips", None, "Explain the first N.")
_PRECISION = cli.define_precision()


def main(argv):
    del argv
    summary = explain.run(
        _CONFIG.value,
        _WORKDIR.value,
        split=_SPLIT.value,
        ids=explain.read_ids(_IDS.value) if _IDS.value else None,
        video=_VIDEO.value,
        videos=_VIDEOS.value,
        output_dir=_OUTPUT_DIR.value,
        shard_index=_SHARD_INDEX.value,
        num_shards=_NUM_SHARDS.value,
        max_clips=_MAX_CLIPS.value,
        model=_MODEL.value,
        precision=_PRECISION.value,
        data_dir=_DATA_DIR.value,
    )
    print(explain.summary_line(summary))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    cli.run(main)
