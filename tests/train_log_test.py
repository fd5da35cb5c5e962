"""Tests for training's console output: plain lines unless on a terminal."""

import contextlib
import io
import re
import tempfile

import tensorflow as tf

from tests import testing
from tfvidinterp.jobs import train

_STEP = (
    r"^step (\d)/4: loss \d+\.\d{4}, accuracy [01]\.\d{4}, "
    r"learning_rate 0\.001, \d+\.\d\d steps/s$"
)
_EVALUATION = r"^step (\d)/4: validation accuracy [01]\.\d{4}$"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class TrainLogTest(testing.SyntheticDataTestCase):
    def _output(self, stdout):
        """What a 4-step run logging every 2 steps prints to `stdout`."""
        config = testing.load_config("configs/clstm_synthetic.py", "smoke")
        config.input.data_dir = self.data_dir
        config.train.update(
            steps_per_epoch=4,
            log_every_steps=2,
            eval_every_steps=2,
            checkpoint_every_steps=4,
            schedule="constant",
            lr=1e-3,
        )
        with contextlib.redirect_stdout(stdout):
            train.run(config, tempfile.mkdtemp(dir=self.get_temp_dir()))
        return stdout.getvalue()

    def test_a_file_gets_one_plain_line_per_log_step_and_evaluation(self):
        text = self._output(io.StringIO())
        for control in ("\x1b", "\r", "\b"):
            self.assertNotIn(control, text)
        lines = []
        for line in text.splitlines():
            step, evaluation = (
                re.match(_STEP, line),
                re.match(_EVALUATION, line),
            )
            self.assertTrue(step or evaluation, line)
            lines.append(("step", step[1]) if step else ("eval", evaluation[1]))
        # Step 1 is logged too; evaluations follow their step's line.
        self.assertEqual(
            lines,
            [
                ("step", "1"),
                ("step", "2"),
                ("eval", "2"),
                ("step", "4"),
                ("eval", "4"),
            ],
        )

    def test_a_terminal_keeps_the_progress_bar_and_the_evaluations(self):
        text = self._output(_Terminal())
        # Keras's bar: redrawn after a carriage return, in colour.
        self.assertIn("\r", text)
        self.assertRegex(text, "4/4\x1b\\[0m \x1b\\[32m━+")
        lines = text.replace("\r", "\n").replace("\b", "").splitlines()
        # An evaluation after the finished bar: no empty line between.
        self.assertNotIn("\n\nstep 4/4", text)
        evaluations = [re.match(_EVALUATION, line) for line in lines]
        self.assertEqual([m[1] for m in evaluations if m], ["2", "4"])
        self.assertFalse(any(re.match(_STEP, line) for line in lines))


if __name__ == "__main__":
    tf.test.main()
