"""A training run's state: its model, optimizer and checkpoint, restored
from the run or warm-started (`train.init_weights`), and its compiled
training step."""

import keras
import tensorflow as tf
from absl import logging

from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp.data import pipeline
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train_eval
from tfvidinterp.jobs import train_model
from tfvidinterp.models import weights

TRAIN_SPLIT = "train"  # The split training reads.


def _optimizer(train_config, total_steps):
    lr = train_config.lr
    if train_config.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            0.0 if train_config.warmup_steps else lr,
            decay_steps=max(total_steps - train_config.warmup_steps, 1),
            warmup_target=lr if train_config.warmup_steps else None,
            warmup_steps=train_config.warmup_steps,
        )
    elif train_config.schedule != "constant":
        raise errors.InputError(
            f"Unknown schedule {train_config.schedule!r}; "
            "known: ['constant', 'cosine']"
        )
    # Keras 3 applies `weight_decay` decoupled from the gradient (AdamW-style)
    # for every optimizer.
    decay = train_config.weight_decay or None
    if train_config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(lr, weight_decay=decay)
    elif train_config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(
            lr, momentum=train_config.momentum, weight_decay=decay
        )
    else:
        raise errors.InputError(
            f"Unknown optimizer {train_config.optimizer!r}; "
            "known: ['adam', 'sgd']"
        )
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _checkpoint_dir(workdir, strategy):
    if distribute.is_chief(strategy):
        return rundir.path(workdir, rundir.CHECKPOINTS)
    # Every worker must take part in saving (it is a collective operation),
    # but only the chief's copy is the run's checkpoint.
    _, task_id = distribute.task()
    return rundir.path(workdir, f"{rundir.CHECKPOINTS}_worker{task_id}")


class State:
    """A run's model, optimizer, checkpoint and compiled step, restored
    from `workdir`'s latest checkpoint if there is one."""

    def __init__(self, config, workdir, strategy, num_classes, total_steps):
        self.config, self.strategy = config, strategy
        with strategy.scope():
            self.model = train_model.build_model(config, num_classes)
            self.optimizer = _optimizer(config.train, total_steps)
            self.optimizer.build(self.model.trainable_variables)
            # The step at which the run reached `target_accuracy` (0: it
            # has not), kept with the weights so a re-run does not train on.
            self.stopped_at = tf.Variable(0, dtype=tf.int64, trainable=False)
            checkpoint = tf.train.Checkpoint(
                model=self.model,
                optimizer=self.optimizer,
                stopped_at=self.stopped_at,
            )
        self.manager = tf.train.CheckpointManager(
            checkpoint,
            _checkpoint_dir(workdir, strategy),
            max_to_keep=config.train.max_checkpoints,
        )
        latest = self.manager.latest_checkpoint
        if latest:
            # The model alone first: it must be restored whole (the
            # optimizer of another config may legitimately differ).
            weights.restore(self.model, latest, train_model.RESTORE_ADVICE)
        checkpoint.restore(latest).expect_partial()
        _init_weights(self.model, config.train.init_weights, latest)
        self.chief = distribute.is_chief(strategy)
        self.evaluator = (
            train_eval.Evaluator(self.model, config, workdir)
            if self.chief
            else None
        )
        self.writer = tf.summary.create_noop_writer()
        if self.chief:
            self.writer = tf.summary.create_file_writer(
                rundir.path(workdir, rundir.TENSORBOARD, "train")
            )

    def iterator(self, start_step):
        """The training batches, distributed over the replicas."""
        config = self.config
        return iter(
            self.strategy.distribute_datasets_from_function(
                lambda context: pipeline.from_config(
                    config.input,
                    TRAIN_SPLIT,
                    batch_size=config.input.batch_size,
                    training=True,
                    input_context=context,
                    # A resumed run reshuffles instead of replaying the first
                    # epoch.
                    seed=config.seed + start_step,
                )
            )
        )

    def train_step(self):
        """A `tf.function(iterator)` that trains one step and returns the
        global batch's summed loss and accuracy."""
        model, optimizer = self.model, self.optimizer
        strategy, global_batch = self.strategy, self.config.input.batch_size

        @tf.function(jit_compile=self.config.train.jit_compile)
        def gradients(frames, labels):
            with tf.GradientTape() as tape:
                logits = model(frames, training=True)
                per_clip = keras.losses.sparse_categorical_crossentropy(
                    labels, logits, from_logits=True
                )
                loss = tf.nn.compute_average_loss(
                    per_clip, global_batch_size=global_batch
                )
                scaled = optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, model.trainable_variables)
            correct = tf.reduce_sum(
                tf.cast(
                    tf.argmax(logits, -1, output_type=tf.int32) == labels,
                    tf.float32,
                )
            )
            return grads, loss, correct

        def replica_step(batch):
            grads, loss, correct = gradients(batch["frames"], batch["label"])
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss, correct

        @tf.function
        def step(iterator):
            loss, correct = strategy.run(replica_step, args=(next(iterator),))
            total = lambda x: strategy.reduce("SUM", x, axis=None)  # noqa: E731
            return total(loss), total(correct) / global_batch

        return step


def _init_weights(model, path, resumed_from):
    """Warm-starts a new run's `model` from `path` (`train.init_weights`).

    A resumed run (`resumed_from`, its latest checkpoint) keeps its own
    weights. What is loaded and what is freshly initialised is printed, the
    loaded variables' names logged.
    """
    if not path:
        return
    if resumed_from:
        print(
            "train.init_weights ignored: the run resumes from its own "
            f"checkpoint {resumed_from}."
        )
        return
    loaded = weights.warm_start(model, path)
    fresh = ", ".join(loaded.initialised)
    print(
        f"Initialised from {loaded.source} ({loaded.kind}): "
        f"{len(loaded.loaded)} variables loaded, "
        f"{len(loaded.initialised)} freshly initialised"
        f"{f' ({fresh})' if fresh else ''}."
    )
    logging.info("Loaded from %s: %s", loaded.source, ", ".join(loaded.loaded))
