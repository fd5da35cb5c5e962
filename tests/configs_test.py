"""Every config file loads, locks, and builds its model."""

import glob
import os

import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import models

CONFIGS = sorted(
    os.path.relpath(p, testing.REPO)
    for p in glob.glob(os.path.join(testing.REPO, "configs", "*.py"))
    # Training configs only; compare.py and the like configure other jobs.
    if not os.path.basename(p).startswith(("_", "common", "compare", "benchmark"))
)


class ConfigsTest(tf.test.TestCase, parameterized.TestCase):

    def test_all_experiments_present(self):
        names = {os.path.basename(p)[:-3] for p in CONFIGS}
        self.assertContainsSubset(
            {"i3d_ssv2", "i3d_kth", "clstm_ssv2", "clstm_kth",
             "i3d_synthetic", "clstm_synthetic"}, names)

    @parameterized.parameters(*CONFIGS)
    def test_full_and_smoke_variants_load(self, path):
        for arg in (None, "smoke"):
            config = testing.load_config(path, arg)
            config.lock()
            with self.assertRaises(AttributeError):
                config.train.no_such_field = 1
            self.assertGreater(config.input.batch_size, 0)
            self.assertIn(config.model_name, models.MODELS)

    @parameterized.parameters(*CONFIGS)
    def test_smoke_model_builds_and_runs(self, path):
        config = testing.load_config(path, "smoke")
        model = models.build(
            config.model_name, num_classes=3,
            num_frames=config.input.num_frames,
            image_size=config.input.image_size, **config.model)
        videos = testing.tiny_videos(
            batch=1, frames=config.input.num_frames,
            size=config.input.image_size)
        self.assertEqual(model(videos).shape, (1, 3))


if __name__ == "__main__":
    tf.test.main()
