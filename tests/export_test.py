"""Tests for tfvidinterp.jobs.export."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp import errors
from tfvidinterp.jobs import export

# Runs in a fresh process with TensorFlow only (no tfvidinterp, no Keras
# model code). Reads a list of cases, writes `<input>.<output key>.npy`.
_SERVE_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
models = {}
for case in json.load(open(sys.argv[1])):
    if case["model"] not in models:
        models[case["model"]] = tf.saved_model.load(case["model"])
    model = models[case["model"]]
    frames = tf.constant(np.load(case["input"]))
    if case["endpoint"] in model.signatures:
        outputs = model.signatures[case["endpoint"]](frames=frames)
    else:
        outputs = getattr(model, case["endpoint"])(frames)
    for key, value in outputs.items():
        np.save(f"{case['input']}.{key}.npy", value.numpy())
assert "tfvidinterp" not in sys.modules
"""

# (batch, frames, endpoint); serving_default is the float32 `serve`.
_CASES = (
    (2, 8, "serve_uint8"),
    (3, 12, "serve_uint8"),
    (2, 8, "serve"),
    (3, 12, "serving_default"),
)


def _uniform(videos, num_frames):
    """The frames at the centres of `num_frames` equal segments."""
    n = videos.shape[1]
    indices = np.floor((np.arange(num_frames) + 0.5) * n / num_frames)
    return videos[:, indices.astype(int)]


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _fail_to_trace(frames):
    raise RuntimeError("endpoint fails while tracing")


def _frame_means(frames):
    return {"means": tf.reduce_mean(frames, axis=[2, 3, 4])}


class ExportTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("same", 8, 8, [0, 1, 2, 3, 4, 5, 6, 7]),
        ("half", 16, 8, [1, 3, 5, 7, 9, 11, 13, 15]),
        ("uneven", 12, 8, [0, 2, 3, 5, 6, 8, 9, 11]),
        ("repeat", 3, 6, [0, 0, 1, 1, 2, 2]),
    )
    def test_resample_frames(self, n, num_frames, indices):
        frames = np.arange(n, dtype=np.float32).reshape(1, n, 1, 1, 1)
        resampled = export.resample_frames(frames, num_frames)
        self.assertAllEqual(tf.reshape(resampled, [-1]), indices)

    @pytest.mark.slow
    def test_saved_model_serves_in_fresh_process(self):
        root = self.get_temp_dir()
        # I3D runs any clip length as it is; the C-LSTM "sequence" head
        # needs its 8 frames, so its endpoints resample.
        i3d = testing.tiny_model("i3d", num_classes=4, frames=None)
        clstm = testing.tiny_model("clstm", num_classes=4, num_layers=2)
        paths = {name: os.path.join(root, name) for name in ("i3d", "clstm")}
        export.export_saved_model(i3d, paths["i3d"])
        # An export replaces whatever directory was there.
        os.makedirs(os.path.join(paths["clstm"], "variables"))
        open(os.path.join(paths["clstm"], "stale.pb"), "w").close()
        export.export_saved_model(
            clstm, paths["clstm"], endpoints={"means": _frame_means}
        )
        self.assertCountEqual(os.listdir(root), ["i3d", "clstm"])
        self.assertNotIn("stale.pb", os.listdir(paths["clstm"]))

        cases, expected = [], {}
        for name, model in (("i3d", i3d), ("clstm", clstm)):
            for batch, frames, endpoint in _CASES:
                videos = testing.tiny_videos(batch, frames, seed=frames)
                if endpoint.endswith("uint8"):
                    videos = videos.astype(np.uint8)
                path = f"{root}/{name}_{batch}x{frames}_{endpoint}.npy"
                np.save(path, videos)
                cases.append(
                    dict(model=paths[name], input=path, endpoint=endpoint)
                )
                seen = videos.astype(np.float32)
                if name == "clstm":
                    seen = _uniform(seen, 8)
                expected[path] = model(seen).numpy()
        cases.append(dict(cases[-3], endpoint="means_uint8"))  # 3x12 uint8.
        case_file = os.path.join(root, "cases.json")
        with open(case_file, "w") as f:
            json.dump(cases, f)
        subprocess.run(
            [sys.executable, "-c", _SERVE_SCRIPT, case_file],
            check=True,
            cwd=root,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )

        for case in cases[:-1]:
            logits = np.load(f"{case['input']}.logits.npy")
            want = expected[case["input"]]
            self.assertAllClose(logits, want, atol=1e-4)
            probabilities = np.load(f"{case['input']}.probabilities.npy")
            self.assertAllClose(probabilities, _softmax(want), atol=1e-5)
        means = np.load(f"{cases[-1]['input']}.means.npy")
        videos = np.load(cases[-1]["input"]).astype(np.float32)
        self.assertAllClose(means, _uniform(videos, 8).mean(axis=(2, 3, 4)))

    def test_num_frames_must_match_the_model(self):
        model = testing.tiny_model("clstm", num_layers=2)
        path = os.path.join(self.get_temp_dir(), "model")
        with self.assertRaisesRegex(
            errors.InputError, "num_frames=16 but the model takes 8 frames"
        ):
            export.export_saved_model(model, path, num_frames=16)
        self.assertFalse(os.path.exists(path))

    def test_path_that_is_a_file(self):
        path = os.path.join(self.get_temp_dir(), "model")
        open(path, "w").close()
        model = testing.tiny_model("clstm", num_layers=2)
        with self.assertRaisesRegex(errors.InputError, "model is a file"):
            export.export_saved_model(model, path)

    def test_failed_export_leaves_nothing(self):
        root = self.get_temp_dir()
        model = testing.tiny_model("clstm", num_layers=2)
        with self.assertRaisesRegex(RuntimeError, "fails while tracing"):
            export.export_saved_model(
                model,
                os.path.join(root, "model"),
                endpoints={"bad": _fail_to_trace},
            )
        self.assertEqual(os.listdir(root), [])


if __name__ == "__main__":
    tf.test.main()
