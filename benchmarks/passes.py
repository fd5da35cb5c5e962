"""The models under test, their sample clips and compiled passes, built once.

Several measurements share a model's forward+backward pass and its train
step; building and tracing each only once keeps a run short (one I3D
train-step trace takes 30-70 s on a 2-core CPU).
"""

import keras
import numpy as np
import tensorflow as tf

from tfvidinterp import models
from tfvidinterp.data import synthetic


class Workbench:
    """Builds and caches what the measurements of one run share.

    Args:
        config: The benchmark config (`configs/benchmark.py`): `seed`,
            `num_classes`, `num_frames`, `image_size` and one build-keyword
            dict per model name (`config.i3d`, `config.clstm`).

    Example:
        bench = Workbench(config)
        gradients = bench.forward_backward("i3d")
        gradients(bench.videos(2), bench.labels(2))  # A scalar tensor.
    """

    def __init__(self, config):
        self.config = config
        self._models = {}
        self._passes = {}
        self._videos = np.zeros(
            (0, config.num_frames, config.image_size, config.image_size, 3),
            np.float32,
        )

    def model(self, name: str) -> keras.Model:
        """The model `name` ("i3d" or "clstm") at the config's sizes."""
        if name not in self._models:
            keras.utils.set_random_seed(self.config.seed)
            self._models[name] = models.build(
                name,
                num_classes=self.config.num_classes,
                num_frames=self.config.num_frames,
                image_size=self.config.image_size,
                **self.config[name],
            )
        return self._models[name]

    def videos(self, batch: int) -> tf.Tensor:
        """`batch` synthetic clips `(batch, T, S, S, 3)` float32 in [0, 255].

        The first clips are always the same ones, so every measurement at a
        batch size sees the same data.
        """
        have = len(self._videos)
        if batch > have:
            classes = len(synthetic.CLASSES)
            clips = [
                synthetic.generate_clip(
                    self.config.seed + i,
                    i % classes,
                    self.config.num_frames,
                    self.config.image_size,
                ).frames
                for i in range(have, batch)
            ]
            self._videos = np.concatenate(
                [self._videos, np.stack(clips).astype(np.float32)]
            )
        return tf.constant(self._videos[:batch])

    def labels(self, batch: int) -> tf.Tensor:
        """`(batch,)` int32 class ids 0, 1, ... modulo the class count."""
        return tf.range(batch, dtype=tf.int32) % self.config.num_classes

    def forward_backward(self, name: str):
        """The bound of a mask step: one forward+backward pass to the input.

        Returns:
            A `tf.function(videos, class_ids)` computing the gradient of the
            target-class softmax (inference mode) with respect to the
            frames; it returns the gradient's sum of squares, a scalar to
            wait on (on a GPU, reading it waits for the whole pass).
        """
        key = ("forward_backward", name)
        if key not in self._passes:
            model = self.model(name)

            def gradient(videos, class_ids):
                with tf.GradientTape() as tape:
                    tape.watch(videos)
                    logits = model(videos, training=False)
                    probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))
                    scores = tf.gather(probabilities, class_ids, batch_dims=1)
                return tf.reduce_sum(tf.square(tape.gradient(scores, videos)))

            self._passes[key] = tf.function(gradient, reduce_retracing=True)
        return self._passes[key]

    def train_step(self, name: str, jit_compile: bool = False):
        """A training step built as `tfvidinterp.jobs.train_state` builds its
        own.

        Forward in training mode, sparse softmax cross-entropy, gradients
        (compiled with XLA when `jit_compile`), Adam's update, all inside
        one `tf.function` around `strategy.run`. Each (name, jit_compile)
        has its own Adam state; they share the model's weights.

        Returns:
            A `tf.function(frames, labels)` returning the loss.
        """
        key = ("train_step", name, jit_compile)
        if key not in self._passes:
            model = self.model(name)
            optimizer = keras.optimizers.Adam(1e-3)
            optimizer.build(model.trainable_variables)
            strategy = tf.distribute.get_strategy()

            @tf.function(jit_compile=jit_compile)
            def gradients(frames, labels):
                with tf.GradientTape() as tape:
                    logits = model(frames, training=True)
                    loss = tf.reduce_mean(
                        keras.losses.sparse_categorical_crossentropy(
                            labels, logits, from_logits=True
                        )
                    )
                return tape.gradient(loss, model.trainable_variables), loss

            def replica_step(frames, labels):
                grads, loss = gradients(frames, labels)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
                return loss

            @tf.function
            def step(frames, labels):
                return strategy.run(replica_step, args=(frames, labels))

            self._passes[key] = step
        return self._passes[key]
