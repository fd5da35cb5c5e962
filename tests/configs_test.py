"""Tests of configs/: each resolves and builds, and holds what it promises.

What the paper and the reference code fix is checked against their values;
`:smoke` variants must stay small enough for a CPU test.
"""

import glob
import json
import os

import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp.interp import layer_names
from tfvidinterp.jobs import train

ALL = sorted(
    os.path.relpath(path, testing.REPO)
    for path in glob.glob(os.path.join(testing.REPO, "configs", "*.py"))
    if not os.path.basename(path).startswith(("_", "common"))
)
# Training configs; compare.py, benchmark.py and keras_model.py configure
# other jobs.
TRAINING = [
    p
    for p in ALL
    if not p.endswith(("compare.py", "benchmark.py", "keras_model.py"))
]
VARIANTS = {"configs/benchmark.py": (None, "full", "smoke")}
# Per experiment: (model, frames, image size, the paper's optimiser,
# momentum, dropout, weight decay, epochs, mask lambda1, lambda2).
PAPER = {
    "i3d_ssv2": ("i3d", 16, 224, "adam", 0.0, 0.5, 0.0, 13, 0.01, 0.02),
    "i3d_kth": ("i3d", 32, (120, 160), "adam", 0.0, 0.7, 5e-5, 30, 0.02, 0.04),
    "clstm_ssv2": ("clstm", 16, 224, "sgd", 0.2, 0.0, 0.0, 105, 0.01, 0.02),
    "clstm_kth": (
        "clstm",
        32,
        (120, 160),
        "sgd",
        0.2,
        0.5,
        1e-4,
        21,
        0.02,
        0.04,
    ),
}


def _name(path):
    return os.path.basename(path)[:-3]


def _sides(size):
    return (size, size) if isinstance(size, int) else tuple(size)


class ConfigsTest(tf.test.TestCase, parameterized.TestCase):
    def test_every_experiment_has_a_config(self):
        self.assertContainsSubset(
            {
                *PAPER,
                "i3d_synthetic",
                "clstm_synthetic",
                "compare",
                "benchmark",
            },
            {_name(p) for p in ALL},
        )

    @parameterized.parameters(*ALL)
    def test_every_variant_resolves_to_json(self, path):
        # Runs record their resolved config as JSON (config.json,
        # demo_state.json).
        for arg in VARIANTS.get(path, (None, "smoke")):
            config = testing.load_config(path, arg)
            self.assertIsInstance(json.dumps(config.to_dict()), str)

    @parameterized.parameters(*TRAINING)
    def test_smoke_model_builds_runs_and_has_its_gradcam_layer(self, path):
        config = testing.load_config(path, "smoke")
        model = train.build_model(config, num_classes=3)
        frames = config.input.num_frames
        videos = testing.tiny_videos(
            batch=1, frames=frames, size=config.input.image_size
        )
        self.assertEqual(model(videos).shape, (1, 3))
        # The explained layer exists and keeps time.
        layer = config.interp.layer or layer_names.default_layer(model)
        self.assertLen(model.get_layer(layer).output.shape, 5)

    @parameterized.parameters(*PAPER)
    def test_paper_values(self, name):
        (
            model,
            frames,
            size,
            optimizer,
            momentum,
            dropout,
            decay,
            epochs,
            lambda1,
            lambda2,
        ) = PAPER[name]
        config = testing.load_config(f"configs/{name}.py")
        self.assertEqual(config.model_name, model)
        self.assertEqual(config.input.num_frames, frames)
        self.assertEqual(config.input.image_size, size)
        self.assertEqual(config.train.optimizer, optimizer)
        self.assertEqual(config.train.momentum, momentum)
        self.assertEqual(config.model.dropout, dropout)
        self.assertEqual(config.train.weight_decay, decay)
        self.assertEqual(config.train.epochs, epochs)
        self.assertEqual(
            (config.interp.lambda1, config.interp.lambda2), (lambda1, lambda2)
        )
        # The method's masks: 300 Adam steps, total variation exponent 3.
        self.assertEqual(
            (config.interp.iterations, config.interp.beta), (300, 3.0)
        )
        # SSv2's labelled validation set is its test set; KTH has a test split.
        self.assertEqual(config.eval.split, "test")
        if model == "i3d":
            self.assertEqual(config.model.width, 1.0)
        else:
            self.assertEqual(
                config.model.num_layers, 3 if "ssv2" in name else 2
            )
            self.assertEqual(config.model.filters, 32)

    def test_demo_configs_agree_and_are_reproducible(self):
        for arg in (None, "smoke"):
            configs = [
                testing.load_config(f"configs/{m}_synthetic.py", arg)
                for m in ("i3d", "clstm")
            ]
            # The demo explains both on the same clips.
            self.assertLen(
                {
                    (c.input.num_frames, str(c.input.image_size))
                    for c in configs
                },
                1,
            )
            for config in configs:
                self.assertTrue(config.deterministic)
                self.assertGreater(config.train.target_accuracy, 0.9)
                self.assertEqual(config.input.data_dir, "data/synthetic")

    @parameterized.parameters(*TRAINING)
    def test_smoke_variant_is_small(self, path):
        full = testing.load_config(path)
        smoke = testing.load_config(path, "smoke")
        self.assertEqual(
            (smoke.input.num_frames, smoke.input.batch_size), (8, 4)
        )
        self.assertLessEqual(max(_sides(smoke.input.image_size)), 64)
        self.assertEqual(smoke.train.steps_per_epoch * smoke.train.epochs, 2)
        self.assertLessEqual(smoke.interp.iterations, 5)
        self.assertLessEqual(smoke.model.get("width", 0.125), 0.125)
        self.assertLessEqual(smoke.model.get("filters", 4), 4)
        # Only sizes change: the same model, optimiser and masks.
        self.assertEqual(smoke.model_name, full.model_name)
        self.assertEqual(smoke.train.optimizer, full.train.optimizer)
        self.assertEqual(smoke.interp.layer, full.interp.layer)
        if not isinstance(full.input.image_size, int):
            self.assertEqual(
                type(smoke.input.image_size), type(full.input.image_size)
            )

    @parameterized.parameters(*PAPER)
    def test_full_i3d_trains_in_bfloat16_where_the_cpu_has_it(self, name):
        # Only the full-width I3D gains 1.6x on such a CPU; smoke runs, the
        # C-LSTM and the synthetic configs stay float32.
        full = testing.load_config(f"configs/{name}.py")
        smoke = testing.load_config(f"configs/{name}.py", "smoke")
        want = "auto" if full.model_name == "i3d" else ""
        self.assertEqual(full.train.mixed_precision, want)
        self.assertEqual(smoke.train.mixed_precision, "")

    def test_compare_smoke_writes_fewer_gifs(self):
        full = testing.load_config("configs/compare.py")
        smoke = testing.load_config("configs/compare.py", "smoke")
        self.assertEqual((full.max_gifs, smoke.max_gifs), (16, 2))
        self.assertEqual(full.drop_filter, 0.001)  # The paper's filter.
        self.assertEqual(smoke.blobs.to_dict(), full.blobs.to_dict())

    def test_benchmark_variants(self):
        default, full, smoke = (
            testing.load_config("configs/benchmark.py", arg)
            for arg in (None, "full", "smoke")
        )
        # `full` is the paper's sizes: 16x224x224, I3D width 1, the SSv2
        # C-LSTM, 300 mask steps, 174 classes.
        self.assertEqual(
            (
                full.num_frames,
                full.image_size,
                full.i3d.width,
                full.clstm.filters,
                full.clstm.num_layers,
                full.masks.iterations,
                full.num_classes,
            ),
            (16, 224, 1.0, 32, 3, 300, 174),
        )
        for small, large in ((smoke, default), (default, full)):
            self.assertLessEqual(small.image_size, large.image_size)
            self.assertLessEqual(small.masks.iterations, large.masks.iterations)
            self.assertLessEqual(
                small.training.matmul_size, large.training.matmul_size
            )
        self.assertEqual(smoke.models, ("clstm",))
        with self.assertRaisesRegex(
            ValueError, "unknown benchmark variant 'huge'; known: "
        ):
            testing.load_config("configs/benchmark.py", "huge")


if __name__ == "__main__":
    tf.test.main()
