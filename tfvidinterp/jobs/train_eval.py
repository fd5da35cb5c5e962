"""Training's periodic evaluation, on the chief alone."""

import keras
import tensorflow as tf
from absl import logging

from tfvidinterp import errors
from tfvidinterp.data import pipeline
from tfvidinterp.jobs import rundir


class Evaluator:
    """Periodic evaluation on the config's `eval.split`, on the chief alone.

    It runs outside `strategy.run`, on the chief's copy of the weights, so
    uneven last batches never make workers wait on each other.
    """

    def __init__(self, model, config, workdir):
        self._config = config
        self._predict = tf.function(lambda x: model(x, training=False))
        self._writer = tf.summary.create_file_writer(
            rundir.path(workdir, rundir.TENSORBOARD, "eval")
        )

    def __call__(self, step):
        config = self._config
        dataset = pipeline.from_config(
            config.input, config.eval.split, batch_size=config.eval.batch_size
        )
        correct = count = 0
        loss_sum = 0.0
        for batch in dataset:
            logits = self._predict(batch["frames"])
            labels = batch["label"]
            loss_sum += float(
                tf.reduce_sum(
                    keras.losses.sparse_categorical_crossentropy(
                        labels, logits, from_logits=True
                    )
                )
            )
            correct += int(
                tf.reduce_sum(
                    tf.cast(
                        tf.argmax(logits, -1, output_type=tf.int32) == labels,
                        tf.int32,
                    )
                )
            )
            count += int(tf.shape(labels)[0])
        if not count:
            raise errors.InputError(
                f"Split {config.eval.split!r} of {config.input.data_dir} "
                "has no clips."
            )
        with self._writer.as_default(step=step):
            tf.summary.scalar("loss", loss_sum / count)
            tf.summary.scalar("accuracy", correct / count)
        self._writer.flush()
        logging.info(
            "Step %d: %s accuracy %.4f",
            step,
            config.eval.split,
            correct / count,
        )
        return correct / count
