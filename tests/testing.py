"""Shared test fixtures: tiny videos, models, datasets and results, config
loading, the demo's smoke configs and headless Chromium.

Test modules import their helpers from here, never from each other.
"""

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import tensorflow as tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_videos(batch=2, frames=8, size=32, seed=0):
    """Random float32 videos `(batch, frames, *size, 3)` in [0, 255].

    `size` is a square side or a (height, width) pair.
    """
    rng = np.random.default_rng(seed)
    height, width = (size, size) if np.isscalar(size) else size
    shape = (batch, frames, height, width, 3)
    return rng.uniform(0.0, 255.0, shape).astype(np.float32)


def tiny_model(name, num_classes=3, frames=8, size=32, seed=0, **kwargs):
    """A CPU-test-sized model from `tfvidinterp.models` with fixed weights."""
    import keras

    from tfvidinterp import models

    keras.utils.set_random_seed(seed)
    if name == "i3d":
        kwargs.setdefault("width", 0.125)
    if name == "clstm":
        kwargs.setdefault("filters", 4)
    return models.build(
        name,
        num_classes=num_classes,
        num_frames=frames,
        image_size=size,
        **kwargs,
    )


def load_config(path, arg=None):
    """Loads `get_config(arg)` from a config file, relative to the repo."""
    path = os.path.join(REPO, path)
    spec = importlib.util.spec_from_file_location("config_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def synthetic_data(directory, num_clips=(48, 16, 0), num_frames=8, size=32):
    """Writes a tiny synthetic TFRecord dataset into `directory`; returns it."""
    from tfvidinterp.data import prepare

    prepare.run(
        "synthetic",
        directory,
        num_shards=2,
        num_workers=0,
        source_options=dict(
            num_clips=num_clips, num_frames=num_frames, image_size=size
        ),
    )
    return directory


class SyntheticDataTestCase(tf.test.TestCase):
    """A test case whose class shares one tiny synthetic dataset, `data_dir`."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = synthetic_data(tempfile.mkdtemp())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data_dir)
        super().tearDownClass()


class TrainedRunTestCase(tf.test.TestCase):
    """A test case whose class shares one trained C-LSTM smoke run.

    Sets `root`, `data_dir`, `config` and `workdir`; subclasses change the
    config before training by overriding `configure`.
    """

    @classmethod
    def configure(cls, config):
        del config

    @classmethod
    def setUpClass(cls):
        from tfvidinterp.jobs import train

        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.data_dir = synthetic_data(os.path.join(cls.root, "data"))
        cls.config = load_config("configs/clstm_synthetic.py", "smoke")
        cls.config.input.data_dir = cls.data_dir
        cls.configure(cls.config)
        cls.workdir = os.path.join(cls.root, "run")
        train.run(cls.config, cls.workdir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)
        super().tearDownClass()


def read_records(directory, name="results.jsonl"):
    """The records of an explain results file, one dict per line."""
    with open(os.path.join(directory, name)) as f:
        return [json.loads(line) for line in f]


def write_video(path, num_frames, height=24, width=32, value=None):
    """Encodes a small real video; each frame's level tells its index."""
    from tfvidinterp.data import video_io

    os.makedirs(os.path.dirname(path), exist_ok=True)
    levels = 10 * np.arange(num_frames) + (value or 0)
    frames = np.broadcast_to(
        levels.astype(np.uint8)[:, None, None, None],
        (num_frames, height, width, 3),
    )
    video_io.encode(path, np.ascontiguousarray(frames))


def kth_name(person, action, scenario):
    return f"person{person:02d}_{action}_d{scenario}"


# (person, action, scenario); one in a sub-folder, as KTH's per-class zips
# unpack.
KTH_VIDEOS = [
    (1, "boxing", 1),
    (4, "walking", 2),
    (11, "running", 3),
    (13, "handclapping", 4),
    (17, "jogging", 1),
    (22, "handwaving", 4),
]


def write_kth(root, num_frames=12, sequences=None):
    """Writes KTH-named AVI videos and, optionally, 00sequences.txt lines."""
    for person, action, scenario in KTH_VIDEOS:
        folder = os.path.join(root, "boxing") if action == "boxing" else root
        name = kth_name(person, action, scenario)
        path = os.path.join(folder, f"{name}_uncomp.avi")
        write_video(path, num_frames, height=16, width=20)
    if sequences is not None:
        with open(os.path.join(root, "00sequences.txt"), "w") as f:
            f.write("KTH sequences\n\nsequence\tframes\n")
            f.writelines(f"{line}\n" for line in sequences)


# A `tfvidinterp.jobs.faithfulness.run` result.
FAITHFULNESS = {
    "run": "i3d_synthetic",
    "model_name": "i3d",
    "results_dir": "x",
    "clips": 10,
    "object_clips": 7,
    "perturbation": "freeze",
    "seed": 0,
    "random_orders": 5,
    "mask_iou": {"learned": 0.6, "random": 0.3, "difference": 0.3},
    "layer": "Mixed_3c",
    "pointing_game": {
        "gradcam": 0.25,
        "centre": 0.5,
        "frames": 40,
        "clips": 12,
        "tolerance_px": 3,
    },
    "energy": {"energy": 0.2, "area": 0.08, "ratio": 2.5},
    "layers": [
        {
            "layer": "Conv3d_2c_3x3",
            "cells": [16, 16],
            "pointing": 0.5,
            "centre": 0.5,
            "energy": 0.25,
            "area": 0.08,
            "ratio": 3.125,
            "frames": 40,
            "clips": 12,
        },
        {
            "layer": "Mixed_3c",
            "cells": [8, 8],
            "pointing": 0.25,
            "centre": 0.5,
            "energy": 0.2,
            "area": 0.08,
            "ratio": 2.5,
            "frames": 40,
            "clips": 12,
        },
        {
            "layer": "input_gradient",
            "cells": None,
            "pointing": 0.75,
            "centre": 0.5,
            "energy": 0.3,
            "area": 0.08,
            "ratio": 3.75,
            "frames": 40,
            "clips": 12,
        },
    ],
    "time_profile": {
        "inside": 0.7,
        "outside": 0.2,
        "ratio": 3.5,
        "mass_inside": 0.55,
        "window_fraction": 0.35,
    },
    "deletion": {"learned": 0.3, "random": 0.5},
    "insertion": {"learned": 0.6, "random": 0.5},
    "sanity": {
        "spearman": None,
        "spearman_std": None,
        "clips": 0,
        "constant_maps": 10,
    },
    "targets": {
        "mask_iou": True,
        "pointing_game": False,
        "energy": True,
        "deletion": True,
        "sanity": None,
    },
}


def demo_configs():
    """The demo binary's `--smoke` configs: `(configs, compare_config)`."""
    configs = {
        "i3d": load_config("configs/i3d_synthetic.py", "smoke"),
        "clstm": load_config("configs/clstm_synthetic.py", "smoke"),
    }
    return configs, load_config("configs/compare.py", "smoke")


def run_demo_quietly(workdir, configs, compare_config, **options):
    """`tfvidinterp.jobs.demo.run`'s summary and what it printed."""
    from tfvidinterp.jobs import demo

    with contextlib.redirect_stdout(io.StringIO()) as out:
        summary = demo.run(workdir, configs, compare_config, **options)
    return summary, out.getvalue()


def chromium():
    """The headless Chromium binary; skips the calling test if none.

    Tests never install it: `.ci/run` does (Debian's `chromium` package).
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise unittest.SkipTest(
            "headless Chromium is not installed (no `chromium` on PATH); "
            "install it to run this test, e.g. `apt-get install chromium` "
            "as .ci/run does"
        )
    return path


def render(html_path, user_dir, screenshot=None):
    """The DOM Chromium shows after loading `html_path` from disk.

    With `screenshot`, also saves a 1200x2000 PNG of the page there. Skips
    the calling test if Chromium is not installed.
    """
    common = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_dir}",
        "--virtual-time-budget=5000",
    ]
    url = "file://" + os.path.abspath(html_path)
    dom = subprocess.run(
        common + ["--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    if screenshot:
        subprocess.run(
            common
            + [
                "--hide-scrollbars",
                "--window-size=1200,2000",
                f"--screenshot={screenshot}",
                url,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    return dom


def images_loaded(dom):
    """`(loaded, total)` images, as the report's script counted them."""
    match = re.search(r'data-images-loaded="(\d+)/(\d+)"', dom)
    return (int(match[1]), int(match[2])) if match else None


def write_resolution_change(path, sizes=((24, 32), (48, 40)), counts=(4, 5)):
    """Writes H.264 in MPEG-TS whose frame size changes mid-stream.

    Two clips of different sizes are encoded and their bytes concatenated,
    as `cat a.ts b.ts` and some cameras make them; one stream, whose frames
    FFmpeg decodes at their own sizes. Frame `i` has level `20 * i`.
    """
    import av

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    data, level = b"", 0
    for (height, width), count in zip(sizes, counts):
        part = io.BytesIO()
        with av.open(part, "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=12)
            stream.height, stream.width = height, width
            stream.pix_fmt = "yuv420p"
            for _ in range(count):
                frame = np.full((height, width, 3), level, np.uint8)
                image = av.VideoFrame.from_ndarray(frame, format="rgb24")
                container.mux(stream.encode(image))
                level += 20
            container.mux(stream.encode())
        data += part.getvalue()
    with open(path, "wb") as f:
        f.write(data)


def upright_image(height=32, width=24):
    """A frame that shows its orientation: its top-left quarter is white."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[: height // 2, : width // 2] = 255
    return frame


def write_rotated(path, upright, num_frames=3, degrees=-90, tag=False):
    """Writes `upright` stored turned, with the rotation that undoes it.

    The frames are stored turned by `-degrees` (counter-clockwise), as a
    phone stores them, and the container says to turn them by `degrees`
    counter-clockwise for display: a display matrix by default (mp4, mov,
    webm), or with `tag` the old `rotate` tag (clockwise degrees).
    """
    import av

    stored = np.ascontiguousarray(np.rot90(upright, k=-degrees // 90))
    with av.open(path, "w") as container:
        stream = container.add_stream("ffv1" if tag else "libx264", rate=12)
        stream.height, stream.width = stored.shape[:2]
        stream.pix_fmt = "yuv420p"
        if tag:
            stream.metadata["rotate"] = str(-degrees)
        else:
            stream.set_display_rotation(degrees)
        container.start_encoding()
        for _ in range(num_frames):
            image = av.VideoFrame.from_ndarray(stored, format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())


# What `prepare` makes of `write_odd_videos` at short side 16.
# Good: id: (label, frames, stored height, stored width).
ODD_GOOD = {
    "a/good.webm": (0, 6, 16, 21),
    "a/resized.ts": (0, 9, 16, 21),  # 24x32 then 48x40: all at 16x21.
    "a/phone.mp4": (0, 3, 21, 16),  # Stored 24x32, shown upright 32x24.
    "b/caf\\xe9.webm": (1, 5, 16, 21),  # Not UTF-8: the id escapes it.
}
# Bad: file name: what rejected.txt says about it.
ODD_BAD = {
    "b/cut.webm": "corrupt or truncated",
    "b/notes.mp4": "not a readable video",
    "b/zero.avi": "not a readable video",
    "b/empty.avi": "the video has no frames",
}


def write_odd_videos(root):
    """Class folders `a` and `b` with the good and bad videos above."""
    from tfvidinterp.data import video_io

    join = os.path.join
    write_video(join(root, "a", "good.webm"), 6)
    write_resolution_change(join(root, "a", "resized.ts"))
    write_rotated(join(root, "a", "phone.mp4"), upright_image())
    write_video(os.fsdecode(os.fsencode(join(root, "b")) + b"/caf\xe9.webm"), 5)
    no_frames = np.zeros((0, 16, 16, 3), np.uint8)
    video_io.encode(join(root, "b", "empty.avi"), no_frames)
    open(join(root, "b", "zero.avi"), "wb").close()
    with open(join(root, "b", "notes.mp4"), "w") as f:
        f.write("Not a video: notes saved with the wrong extension.\n")
    noise = np.random.default_rng(1).integers(0, 255, (12, 32, 32, 3))
    video_io.encode(join(root, "full.webm"), noise.astype(np.uint8))
    with open(join(root, "full.webm"), "rb") as f:
        data = f.read()
    os.remove(join(root, "full.webm"))
    with open(join(root, "b", "cut.webm"), "wb") as f:
        f.write(data[: len(data) // 2])


def square_or_die(number):
    """`number ** 2`, or for a negative number a SIGKILL of the process, as
    the kernel kills a process out of memory."""
    import signal

    if number < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return number**2


# Replicas of the official SSv2 download. Its label files come named two
# ways: `something-something-v2-<name>.json` in the root (older downloads)
# or `<name>.json` in `labels/` (newer ones); naming -> (folder, pattern).
SSV2_NAMINGS = {
    "prefixed": ("", "something-something-v2-{}.json"),
    "plain": ("labels", "{}.json"),
}
SSV2_CLASSES = {  # labels.json: the template without brackets -> index.
    "Holding something": "0",
    "Pushing something from left to right": "1",
    "Putting something on a surface": "2",
}
# train.json and validation.json: id -> (template, placeholders).
SSV2_TRAIN = {
    "101": ("Holding [something]", ["a pen"]),
    "102": ("Pushing [something] from left to right", ["a box"]),
    "103": ("Putting [something] on a surface", ["a cup"]),
    "104": ("Holding [something]", ["a phone"]),
}
SSV2_VALIDATION = {
    "201": ("Putting [something] on a surface", ["a key"]),
    "202": ("Holding [something]", ["a spoon"]),
}
SSV2_TEST = ("301", "302")  # test.json: ids alone, no labels.
SSV2_MISSING = "202"  # Listed in validation.json; its video is absent.


def write_ssv2_official(root, naming="plain", nested=True, num_frames=6):
    """Writes a replica of the official SSv2 download, unpacked as it comes.

    Args:
        root: Where the download was unpacked.
        naming: A key of `SSV2_NAMINGS`: how the label files are named.
        nested: Videos in `<root>/20bn-something-something-v2/`, as the
            video archives unpack; else in the root.
        num_frames: Frames of the first video; each next one has one more.

    Returns:
        The videos' folder. Every listed video is there but
        `SSV2_MISSING`; `test.json` lists `SSV2_TEST`, without labels and
        without videos.
    """
    import json

    folder = (
        os.path.join(root, "20bn-something-something-v2") if nested else root
    )
    labels, pattern = SSV2_NAMINGS[naming]
    os.makedirs(os.path.join(root, labels), exist_ok=True)

    def dump(name, value):
        with open(os.path.join(root, labels, pattern.format(name)), "w") as f:
            json.dump(value, f)

    dump("labels", SSV2_CLASSES)
    count = num_frames
    for name, entries in (
        ("train", SSV2_TRAIN),
        ("validation", SSV2_VALIDATION),
    ):
        listing = []
        for video, (template, objects) in entries.items():
            caption = template
            for thing in objects:
                caption = caption.replace("[something]", thing, 1)
            listing.append(
                dict(
                    id=video,
                    label=caption,
                    template=template,
                    placeholders=objects,
                )
            )
            if video != SSV2_MISSING:
                write_video(os.path.join(folder, f"{video}.webm"), count)
            count += 1
        dump(name, listing)
    dump("test", [dict(id=video) for video in SSV2_TEST])
    return folder


# A replica of KTH unpacked one action zip per folder, with its
# `00sequences.txt`: a header and split lines, blank lines between persons,
# tabs and spaces mixed, trailing blanks, lines for videos not in the
# replica (the real file lists them all) and the absent video marked.
KTH_OFFICIAL_SEQUENCES = (
    "\n"
    "KTH human motion database: frame intervals of the sub-sequences\n"
    "\n"
    "Training:\tperson11, person12, person13, person14, person15, "
    "person16, person17, person18\n"
    "Validation:\tperson19, person20, person21, person23, person24, "
    "person25, person01, person04\n"
    "Test:\tperson22, person02, person03, person05, person06, person07, "
    "person08, person09, person10\n"
    "\n"
    "\n"
    "person01_boxing_d1\t\tframes\t1-12, 13-24\n"
    "person01_boxing_d2\t\tframes\t1-106, 107-195, 196-265, 282-395 \n"
    "\n"
    "person13_handclapping_d1\tframes\t1-8, 9-16,17-28\t\n"
    "person13_handclapping_d3\t\t*missing*\n"
    "person13_handclapping_d4   frames  1-90, 91-180\n"
    "\n"
    "person22_walking_d2 \t\tframes \t1-15,  16-30\n"
    "\n"
)
# The replica's videos (name, frames) and sub-sequences per paper split.
KTH_OFFICIAL_VIDEOS = (
    ("person01_boxing_d1", 24),
    ("person13_handclapping_d1", 28),
    ("person22_walking_d2", 30),
)
KTH_OFFICIAL_CLIPS = {
    "train": [
        "person01_boxing_d1_1",
        "person01_boxing_d1_2",
        "person13_handclapping_d1_1",
        "person13_handclapping_d1_2",
        "person13_handclapping_d1_3",
    ],
    "test": ["person22_walking_d2_1", "person22_walking_d2_2"],
}


def write_kth_official(root):
    """Writes the KTH replica above under `root`: `<action>/<video>` and
    `00sequences.txt` beside the folders."""
    for name, num_frames in KTH_OFFICIAL_VIDEOS:
        action = name.split("_")[1]
        path = os.path.join(root, action, f"{name}_uncomp.avi")
        write_video(path, num_frames, height=12, width=16)
    with open(os.path.join(root, "00sequences.txt"), "w") as f:
        f.write(KTH_OFFICIAL_SEQUENCES)


def write_kinetics_i3d_checkpoint(prefix, num_classes=400, variant="rgb"):
    """Writes a checkpoint named and shaped as deepmind/kinetics-i3d's.

    The names and shapes are the release's (`kinetics_i3d_variables.txt`),
    the values random: He-scaled kernels, small offsets and means,
    variances in [0.5, 2].

    Args:
        prefix: The checkpoint prefix to write, e.g. `<dir>/model.ckpt`.
        num_classes: Classes of the logits (400 in the release).
        variant: "rgb" (`rgb_imagenet`, `rgb_scratch`), "rgb600"
            (`rgb_scratch_kin600`: no scope, `(1, 1, 1, 1, C)` batch-norm
            variables, `/Momentum` slots of the trained ones) or "flow"
            (2 input channels).

    Returns:
        `{name: array}` of what it wrote.
    """
    rng = np.random.default_rng(0)
    scope = {"rgb": "RGB/", "rgb600": "", "flow": "Flow/"}[variant]
    scope += "inception_i3d/" if scope else ""
    tensors = {}
    with open(os.path.join(REPO, "tests", "kinetics_i3d_variables.txt")) as f:
        rows = [line.split() for line in f if not line.startswith("#")]
    for name, dims in rows:
        shape = [int(d) for d in dims.split(",")]
        if name.startswith("Logits/"):
            shape[-1] = num_classes
        if variant == "flow" and name == "Conv3d_1a_7x7/conv_3d/w":
            shape[3] = 2
        if variant == "rgb600" and "/batch_norm/" in name:
            shape = [1, 1, 1, 1] + shape
        if name.endswith("/w"):
            scale = np.sqrt(2.0 / np.prod(shape[:-1]))
            value = rng.normal(0.0, scale, shape)
        elif name.endswith("moving_variance"):
            value = rng.uniform(0.5, 2.0, shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        tensors[scope + name] = value.astype(np.float32)
        if variant == "rgb600" and "/moving_" not in name:
            tensors[f"{name}/Momentum"] = np.zeros(shape, np.float32)
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=list(tensors),
        shape_and_slices=[""] * len(tensors),
        tensors=list(tensors.values()),
    )
    return tensors


def error_lines(stderr, binary):
    """The lines of `binaries.<binary>`'s own error messages in a run's
    stderr; TensorFlow's C++ start-up lines may precede them."""
    return [
        line for line in stderr.splitlines() if line.startswith(f"{binary}.py:")
    ]


def tiny_classifier(num_classes, num_frames=None, image_size=None, filters=4):
    """A video classifier of one's own, for `model_name =
    "tests.testing:tiny_classifier"`: its Grad-CAM layer is `features`."""
    import keras

    height, width = (
        (image_size, image_size)
        if image_size is None or np.isscalar(image_size)
        else image_size
    )
    videos = keras.Input((num_frames, height, width, 3))
    x = keras.layers.Rescaling(1 / 255)(videos)
    x = keras.layers.Conv3D(
        filters, 3, padding="same", activation="relu", name="features"
    )(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    return keras.Model(videos, keras.layers.Dense(num_classes)(x))
