r"""Decodes a video source once into sharded TFRecords; re-run to resume.

    python -m binaries.prepare_data --output_dir=data/synthetic
    python -m binaries.prepare_data --source=kth --root=/data/kth \
        --kth_split=official --output_dir=data/kth_official  # --check first
"""

from absl import flags

from tfvidinterp import cli
from tfvidinterp.data import sources
from tfvidinterp.data import synthetic
from tfvidinterp.jobs import prepare_data

_SOURCE = flags.DEFINE_enum(
    "source", "synthetic", [*sources.SOURCES], "Video source."
)
flags.DEFINE_boolean("check", False, "Dry run: list, sample and estimate.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Dataset directory.")
flags.DEFINE_string("root", None, "Source directory (or folder CSV).")
flags.DEFINE_list("splits", None, "Splits to write; default all.")
flags.DEFINE_integer("num_shards", 8, "Shards per split.")
flags.DEFINE_integer("short_side", None, "Resize: short side.")
flags.DEFINE_integer("max_frames", None, "Frame cap per clip.")
flags.DEFINE_integer("num_workers", 2, "Decoding processes.")
flags.DEFINE_enum(
    "kth_split", "paper", [*sources.KTH_SPLITS], "KTH persons per split."
)
flags.DEFINE_string(
    "synthetic_clips", "800,200,200", "Synthetic train,validation,test clips."
)
flags.DEFINE_integer("num_frames", 16, "Synthetic clip length.")
flags.DEFINE_integer("image_size", 64, "Synthetic frame size.")
flags.DEFINE_integer("seed", 0, "Synthetic dataset seed.")
flags.DEFINE_enum(
    "synthetic_background", "smooth", list(synthetic.BACKGROUNDS), "Background."
)
flags.DEFINE_boolean("synthetic_camera", False, "Add the synthetic pans.")
flags.DEFINE_float("validation_fraction", 0, "Folder: share to validation.")
flags.DEFINE_float("test_fraction", sources.TEST_FRACTION, "Folder: to test.")
flags.mark_flag_as_required("output_dir")
# The flags above that are `prepare_data.run`'s options of the same names.
_OPTIONS = (
    "root splits num_shards short_side max_frames num_workers kth_split "
    "synthetic_clips num_frames image_size seed synthetic_background "
    "synthetic_camera validation_fraction test_fraction check"
).split()


def main(argv):
    del argv  # cli.run rejects extra arguments.
    prepare_data.run(
        _SOURCE.value,
        _OUTPUT_DIR.value,
        **{name: flags.FLAGS[name].value for name in _OPTIONS},
    )


if __name__ == "__main__":
    cli.run(main)
