"""Shared test fixtures: tiny videos, tiny models and config loading."""

import importlib.util
import os
import shutil
import tempfile

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
        from tfvidinterp import train

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
