r"""Decodes a video source once into sharded TFRecords; re-run to resume.

    python -m binaries.prepare_data --output_dir=data/synthetic
    python -m binaries.prepare_data --source=ssv2 --root=/data/ssv2 \
        --output_dir=data/ssv2 --short_side=128 --num_shards=64
    python -m binaries.prepare_data --source=kth --root=/data/kth \
        --kth_split=official --output_dir=data/kth_official
"""

from absl import flags

from tfvidinterp import cli
from tfvidinterp.data import prepare, sources, synthetic

_SOURCE = flags.DEFINE_enum(
    "source", "synthetic", [*sources.SOURCES], "Video source."
)
_ROOT = flags.DEFINE_string("root", None, "Source directory (or folder CSV).")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Dataset directory.")
_SPLITS = flags.DEFINE_list("splits", None, "Splits to write; default all.")
_NUM_SHARDS = flags.DEFINE_integer("num_shards", 8, "Shards per split.")
_SHORT_SIDE = flags.DEFINE_integer("short_side", None, "Resize: short side.")
_MAX_FRAMES = flags.DEFINE_integer("max_frames", None, "Frame cap per clip.")
_NUM_WORKERS = flags.DEFINE_integer("num_workers", 2, "Decoding processes.")
_KTH_SPLIT = flags.DEFINE_enum(
    "kth_split", "paper", [*sources.KTH_SPLITS], "KTH persons per split."
)
_SYNTHETIC_CLIPS = flags.DEFINE_string(
    "synthetic_clips", "800,200,200", "Synthetic train,validation,test clips."
)
_NUM_FRAMES = flags.DEFINE_integer("num_frames", 16, "Synthetic clip length.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 64, "Synthetic frame size.")
_SEED = flags.DEFINE_integer("seed", 0, "Synthetic dataset seed.")
_BACKGROUND = flags.DEFINE_enum(
    "synthetic_background", "smooth", list(synthetic.BACKGROUNDS),
    "Synthetic background: smooth (low contrast) or texture (grey blobs).")
_CAMERA = flags.DEFINE_boolean(
    "synthetic_camera", False, "Add the synthetic pan classes.")
flags.mark_flag_as_required("output_dir")


def main(argv):
    del argv  # cli.run rejects extra arguments.
    options = {
        "synthetic": dict(
            num_clips=_SYNTHETIC_CLIPS.value,
            num_frames=_NUM_FRAMES.value,
            image_size=_IMAGE_SIZE.value,
            seed=_SEED.value,
            background=_BACKGROUND.value,
            camera=_CAMERA.value,
        ),
        "kth": dict(subject_split=_KTH_SPLIT.value),
    }
    prepare.run(
        _SOURCE.value,
        _OUTPUT_DIR.value,
        root=_ROOT.value,
        splits=_SPLITS.value,
        num_shards=_NUM_SHARDS.value,
        short_side=_SHORT_SIDE.value,
        max_frames=_MAX_FRAMES.value,
        num_workers=_NUM_WORKERS.value,
        source_options=options.get(_SOURCE.value, {}),
    )


if __name__ == "__main__":
    cli.run(main)
