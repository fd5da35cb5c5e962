"""Training's output at each step: the console progress and the step's
TensorBoard summaries."""

import sys
import time

import keras
import tensorflow as tf


def log_step(state, progress, step, loss, accuracy):
    """Shows the step, and on logging steps (and step 1) writes its
    summaries and shows the learning rate too."""
    if step % state.config.train.log_every_steps and step != 1:
        progress.update(step, float(loss), float(accuracy))
        return
    lr = _current_lr(state.optimizer)
    progress.update(step, float(loss), float(accuracy), float(lr))
    with state.writer.as_default(step=step):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        tf.summary.scalar("learning_rate", lr)


class Progress:
    """Training's console output, on the chief (`verbose`) only.

    On a terminal: a Keras progress bar. Elsewhere (a log file, a batch
    job's output) no escape codes or carriage returns but one plain line
    per logging step:
    `step 10/300: loss 0.6931, accuracy 0.5000, learning_rate 0.002,
    2.41 steps/s` (steps/s of training since the previous line or
    evaluation). Evaluations get a line either way:
    `step 25/300: validation accuracy 0.8750`.
    """

    def __init__(self, total_steps, start_step, verbose):
        self._total, self._verbose = total_steps, verbose
        self._bar = None
        if verbose and sys.stdout.isatty():
            self._bar = keras.utils.Progbar(
                total_steps, stateful_metrics=["loss", "accuracy"]
            )
            self._bar.update(start_step)
        self._since = (start_step, time.monotonic())
        self._shown = start_step

    def update(self, step, loss, accuracy, learning_rate=None):
        """Shows training `step`; a plain line if `learning_rate` is given
        (a logging step)."""
        self._shown = step
        if self._bar:
            self._bar.update(step, [("loss", loss), ("accuracy", accuracy)])
        elif self._verbose and learning_rate is not None:
            since_step, since_time = self._since
            now = time.monotonic()
            rate = (step - since_step) / max(now - since_time, 1e-9)
            self._line(
                f"step {step}/{self._total}: loss {loss:.4f}, accuracy "
                f"{accuracy:.4f}, learning_rate {learning_rate:.3g}, "
                f"{rate:.2f} steps/s"
            )
            self._since = (step, now)

    def evaluation(self, step, split, accuracy):
        """Shows an evaluation's result."""
        if self._verbose:
            self.message(
                f"step {step}/{self._total}: {split} accuracy {accuracy:.4f}"
            )
            self._since = (step, time.monotonic())

    def message(self, line):
        """Prints `line` on a line of its own, also past the bar (which
        ends its line itself when it reaches the total)."""
        past_bar = self._bar and self._shown < self._total
        self._line(f"\n{line}" if past_bar else line)

    def _line(self, line):
        print(line, flush=True)


def _current_lr(optimizer):
    lr = optimizer.learning_rate
    return lr(optimizer.iterations) if callable(lr) else lr
