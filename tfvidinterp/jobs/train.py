"""Trains a video classifier with one custom loop for every strategy.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (the
reduction of per-replica scalar logs; keras-team/keras#20585) and
`BackupAndRestore` is not chief-aware, so training runs a `strategy.run` step
in a `tf.function` and checkpoints with `tf.train.CheckpointManager`: the
chief writes the real checkpoints, the other workers their own copies.
"""

import math
import time

import keras
import tensorflow as tf
from absl import logging

from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import models
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.report import tensorboard


def build_model(config, num_classes):
    """Builds the config's model for `num_classes` classes."""
    return models.build(
        config.model_name,
        num_classes=num_classes,
        num_frames=config.input.num_frames,
        image_size=config.input.image_size,
        **config.model,
    )


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


def steps_per_epoch(config, info):
    """Steps in one pass over the training split at the global batch size."""
    if config.train.steps_per_epoch:
        return config.train.steps_per_epoch
    clips = info["splits"]["train"]["num_clips"]
    return max(clips // config.input.batch_size, 1)


def run(config, workdir: str) -> dict:
    """Trains `config`'s model into `workdir`, resuming if it holds a run.

    Args:
        config: An experiment `ml_collections.ConfigDict` (see `configs/`).
        workdir: Output directory; layout in `tfvidinterp.jobs.rundir`.

    Returns:
        A summary dict: `start_step`, `final_step`, `train_loss`,
        `train_accuracy`, `eval_accuracy`, `eval_history` (`(step,
        accuracy)` of this call's evaluations), `stopped_at` (the step that
        reached `train.target_accuracy`, or 0), `seconds` (this call's
        training wall time), and the trained `model` (under a
        distribution strategy, its variables hold one value per replica).

    Raises:
        errors.InputError: for a missing dataset or a config that does not
            match it.
    """
    if config.train.mixed_precision:
        keras.mixed_precision.set_global_policy(config.train.mixed_precision)
    if config.deterministic:
        # Process-wide and irreversible: every later op must be deterministic
        # too, which is what a reproducible run asks for.
        tf.config.experimental.enable_op_determinism()
    strategy = distribute.get_strategy(config.strategy)
    keras.utils.set_random_seed(config.seed)
    info = prepare.read_info(config.input.data_dir)
    total_steps = config.train.epochs * steps_per_epoch(config, info)
    if distribute.is_chief(strategy):
        files.write_json(rundir.path(workdir, rundir.CONFIG), config.to_dict())
    state = _State(config, workdir, strategy, len(info["classes"]), total_steps)
    start_step = int(state.optimizer.iterations.numpy())
    if int(state.stopped_at.numpy()):
        print(f"Reached target_accuracy at step {start_step} already.")
        total_steps = start_step
    elif start_step:
        logging.info("Resumed from step %d of %d.", start_step, total_steps)
        print(f"Resumed from step {start_step} of {total_steps}.")
    began = time.time()
    result = _loop(state, start_step, total_steps)
    if (
        state.manager.latest_checkpoint is None
        or rundir.checkpoint_step(state.manager.latest_checkpoint)
        != result["final_step"]
    ):
        state.manager.save(checkpoint_number=result["final_step"])
    if state.chief:
        files.save_atomic(rundir.path(workdir, rundir.MODEL), state.model.save)
    result.update(
        stopped_at=int(state.stopped_at.numpy()),
        seconds=time.time() - began,
        model=state.model,
    )
    return result


class _State:
    """A run's model, optimizer, checkpoint and compiled step, restored
    from `workdir`'s latest checkpoint if there is one."""

    def __init__(self, config, workdir, strategy, num_classes, total_steps):
        self.config, self.strategy = config, strategy
        with strategy.scope():
            self.model = build_model(config, num_classes)
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
        checkpoint.restore(self.manager.latest_checkpoint).expect_partial()
        self.chief = distribute.is_chief(strategy)
        self.evaluator = (
            Evaluator(self.model, config, workdir) if self.chief else None
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
                    "train",
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


def _loop(state, start_step, total_steps) -> dict:
    """Trains from `start_step` until `total_steps` or the target accuracy,
    logging, evaluating and checkpointing on the config's schedule."""
    config, target = state.config, state.config.train.target_accuracy
    if state.chief and not start_step:
        _write_run_summaries(state.writer, config)
    train_step, iterator = state.train_step(), state.iterator(start_step)
    progress = keras.utils.Progbar(
        total_steps, stateful_metrics=["loss", "accuracy"], verbose=state.chief
    )
    progress.update(start_step)
    result = {
        "start_step": start_step,
        "eval_accuracy": None,
        "eval_history": [],
    }
    step = start_step
    while step < total_steps:
        loss, accuracy = train_step(iterator)
        step = int(state.optimizer.iterations.numpy())
        if not math.isfinite(float(loss)):
            raise FloatingPointError(f"Loss is {float(loss)} at step {step}.")
        progress.update(
            step, [("loss", float(loss)), ("accuracy", float(accuracy))]
        )
        result.update(train_loss=float(loss), train_accuracy=float(accuracy))
        if step % config.train.log_every_steps == 0 or step == 1:
            with state.writer.as_default(step=step):
                tf.summary.scalar("loss", loss)
                tf.summary.scalar("accuracy", accuracy)
                tf.summary.scalar("learning_rate", _current_lr(state.optimizer))
        # Evaluated before the periodic save, so that a checkpoint of the
        # stopping step records the stop; `run` saves any other last step.
        if step % config.train.eval_every_steps == 0 or step == total_steps:
            if state.evaluator:
                result["eval_accuracy"] = state.evaluator(step)
                result["eval_history"].append((step, result["eval_accuracy"]))
            if target and _any_worker(
                state.strategy,
                state.evaluator is not None
                and result["eval_accuracy"] >= target,
            ):
                state.stopped_at.assign(step)
                print(
                    f"\nStopped at step {step} of {total_steps}: "
                    f"{config.eval.split} accuracy reached {target}."
                )
                total_steps = step
        if step % config.train.checkpoint_every_steps == 0:
            state.manager.save(checkpoint_number=step)
    state.writer.flush()
    result["final_step"] = step
    return result


def _any_worker(strategy, flag: bool) -> bool:
    """Whether `flag` holds on any worker, answered alike on all of them.

    Only the chief evaluates, but every worker must leave the loop at the
    same step: the next step's all-reduce would otherwise wait forever.
    """
    per_replica = strategy.run(tf.identity, args=(tf.constant(float(flag)),))
    return float(strategy.reduce("SUM", per_replica, axis=None)) > 0


def _write_run_summaries(writer, config):
    """The resolved config, its hyper-parameters and a few input clips."""
    batch = next(
        iter(pipeline.from_config(config.input, "train", batch_size=3))
    )
    with writer.as_default(step=0):
        tensorboard.write_config(config.to_dict())
        tensorboard.write_clips("input_clips", batch["frames"].numpy(), 0)


def _current_lr(optimizer):
    lr = optimizer.learning_rate
    return lr(optimizer.iterations) if callable(lr) else lr


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


def load_model(config, workdir: str):
    """Rebuilds `config`'s model and restores `workdir`'s latest checkpoint.

    Raises:
        errors.InputError: when the workdir holds no checkpoint.
    """
    info = prepare.read_info(config.input.data_dir)
    model = build_model(config, len(info["classes"]))
    directory = rundir.path(workdir, rundir.CHECKPOINTS)
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        raise errors.InputError(
            f"No checkpoint in {directory}; train the model first."
        )
    tf.train.Checkpoint(model=model).restore(latest).expect_partial()
    logging.info("Restored %s.", latest)
    return model, info
