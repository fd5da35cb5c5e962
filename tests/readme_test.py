"""The README's "Your own videos and model" commands, run as written.

From a folder of MP4s and a Keras model file of one's own (a softmax head,
which the jobs read before its softmax) to an HTML report and SavedModels,
at tiny sizes: the only change to each command is the `:smoke` options of
`configs/keras_model.py` (5 mask steps).
"""

import json
import os
import re
import shlex
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import testing
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import resultsdir

README = os.path.join(testing.REPO, "README.md")
CLASSES = ("bright", "dark")


def readme_block(marker: str) -> str:
    """The fenced code block right after the README line holding `marker`."""
    with open(README) as f:
        text = f.read()
    found = re.search(re.escape(marker) + r".*?\n```\w*\n(.*?)```", text, re.S)
    assert found, f"no code block after {marker!r} in README.md"
    return found.group(1)


def own_model(frames=8, size=32):
    """A video classifier ending in a softmax, as users save them."""
    videos = keras.Input((frames, size, size, 3))
    x = keras.layers.Rescaling(1 / 255)(videos)
    x = keras.layers.Conv3D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv3D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(x)
    return keras.Model(videos, outputs, name="own")


def write_user_files(root):
    """`my_videos/<class>/*.mp4`, `new_videos/*.mp4` and `my_model.keras`
    with `my_model.classes.txt`, as the README describes them."""
    for label, value in zip(CLASSES, (100, 20)):
        for i in range(5):
            testing.write_video(
                os.path.join(root, "my_videos", label, f"{label}_{i}.mp4"),
                8,
                value=value + 5 * i,
            )
    for i, value in enumerate((95, 25)):
        testing.write_video(
            os.path.join(root, "new_videos", f"clip{i}.mp4"), 8, value=value
        )
    model = own_model()
    model.save(os.path.join(root, "my_model.keras"))
    with open(os.path.join(root, "my_model.classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    return model


def run_command(command, cwd):
    """Runs one README command line in `cwd` with the smoke options."""
    config = os.path.join(testing.REPO, "configs", "keras_model.py")
    argv = [
        arg.replace("configs/keras_model.py", f"{config}:smoke")
        for arg in shlex.split(command)
    ]
    assert argv[:2] == ["python", "-m"], command
    return subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": testing.REPO},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
class OwnModelCommandsTest(tf.test.TestCase):
    def test_readme_commands_from_videos_and_a_model_file_to_a_report(self):
        root = self.get_temp_dir()
        model = write_user_files(root)
        commands = readme_block("own-model-commands").strip().splitlines()
        self.assertLen(commands, 7)
        for command in commands:
            done = run_command(command, root)
            self.assertEqual(done.returncode, 0, f"{command}\n{done.stderr}")
        runs = os.path.join(root, "runs", "my_model")
        result = evaluate.load_eval(os.path.join(runs, "eval", "test.json"))
        matrix = np.array(result["forward"]["confusion_matrix"])
        tests = len(
            resultsdir.load_results(os.path.join(runs, "explain", "test"))[
                "records"
            ]
        )
        self.assertEqual(matrix.sum(), tests)
        new = resultsdir.load_results(os.path.join(runs, "explain", "new"))
        self.assertLen(new["records"], 2)
        self.assertEqual(new["meta"]["classes"], list(CLASSES))
        self.assertTrue(
            os.path.isfile(os.path.join(runs, "report", "report.html"))
        )
        # The model file's explanations got the randomisation check.
        with open(
            os.path.join(runs, "explain", "test", "faithfulness.json")
        ) as f:
            self.assertIn("sanity", json.load(f))
        # The export serves the model's own probabilities, its logits the
        # softmax's input: one softmax, not two.
        frames = testing.tiny_videos(2, 8, 32)
        loaded = tf.saved_model.load(
            os.path.join(root, "exports", "my_model", "classifier")
        )
        served = loaded.serve(frames)
        self.assertAllClose(served["probabilities"], model(frames), atol=1e-5)
        self.assertAllClose(
            tf.nn.softmax(served["logits"]), model(frames), atol=1e-5
        )

    def test_readme_python_explains_a_softmax_model_and_saves_pictures(self):
        root = self.get_temp_dir()
        videos = testing.tiny_videos(2, 8, 32)
        namespace = {"model": own_model(), "videos": videos}
        cwd = os.getcwd()
        os.chdir(root)
        try:
            exec(readme_block("own-model-python"), namespace)  # noqa: S102
        finally:
            os.chdir(cwd)
        self.assertEqual(namespace["out"]["heatmaps"].shape, (2, 8, 32, 32))
        self.assertEqual(namespace["res"]["mask"].shape, (2, 8))
        for suffix in (".gif", ".mp4", ".png"):
            self.assertTrue(
                os.path.isfile(os.path.join(root, "figures", "clip0" + suffix))
            )
