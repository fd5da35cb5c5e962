"""Trains a video classifier with one custom loop for every strategy.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (the
reduction of per-replica scalar logs; keras-team/keras#20585) and
`BackupAndRestore` is not chief-aware, so training runs a `strategy.run` step
in a `tf.function` and checkpoints with `tf.train.CheckpointManager`: the
chief writes the real checkpoints, the other workers their own copies.
"""

import math
import sys
import time
import typing

import keras
import ml_collections
import tensorflow as tf
from absl import logging

from tfvidinterp import distribute
from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp import models
from tfvidinterp import precision
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.models import weights
from tfvidinterp.report import tensorboard

TRAIN_SPLIT = "train"  # The split training reads.
_RESTORE_ADVICE = "give the config it was trained with"


def build_model(config, num_classes):
    """Builds the config's model for `num_classes` classes: `model_name` is
    one of `tfvidinterp.models.MODELS` or an import path
    `"module:function"` (`tfvidinterp.models.build`)."""
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
    clips = info["splits"][TRAIN_SPLIT]["num_clips"]
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
        errors.InputError: A missing dataset, a training or evaluation
            split without clips, a config that does not match the dataset,
            or a `workdir` holding a run of another model or data.
    """
    strategy = _set_up(config)
    info = prepare.read_info(config.input.data_dir)
    _check_schedule(config.train)
    check_split(config, info, TRAIN_SPLIT)
    # Every worker checks, so that all of them stop, not the chief alone.
    rundir.record(
        workdir, config.to_dict(), info, write=distribute.is_chief(strategy)
    )
    total_steps = config.train.epochs * steps_per_epoch(config, info)
    state = _State(config, workdir, strategy, len(info["classes"]), total_steps)
    start_step = int(state.optimizer.iterations.numpy())
    if int(state.stopped_at.numpy()):
        print(f"Reached target_accuracy at step {start_step} already.")
        total_steps = start_step
    elif start_step:
        logging.info("Resumed from step %d of %d.", start_step, total_steps)
        print(f"Resumed from step {start_step} of {total_steps}.")
    if start_step < total_steps:
        # The loop evaluates at least once, at its last step.
        check_split(config, info, config.eval.split, evaluation=True)
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


def _set_up(config):
    """Sets the process-wide options of `config`; returns its strategy."""
    policy = precision.resolve(config.train.mixed_precision)
    if policy:
        keras.mixed_precision.set_global_policy(policy)
        logging.info("Mixed precision: %s.", policy)
    if config.deterministic:
        # Process-wide and irreversible: every later op must be deterministic
        # too, which is what a reproducible run asks for.
        tf.config.experimental.enable_op_determinism()
    strategy = distribute.get_strategy(config.strategy)
    keras.utils.set_random_seed(config.seed)
    return strategy


def check_split(config, info, split: str, evaluation: bool = False):
    """Refuses to train when `split` of the dataset is missing or empty.

    Without this check an empty training split ends the run in a bare
    `StopIteration` (or hangs a resumed one: its shards repeat forever
    without a clip), and a missing evaluation split fails only at the first
    evaluation, after the training steps before it. A split with clips is
    enough: training repeats the split before batching it, so any number of
    clips fills a batch.

    Args:
        config: The experiment config.
        info: The dataset's `dataset_info.json`.
        split: The split to check.
        evaluation: Whether `split` is `config.eval.split` (else the
            training split), for the advice in the message.

    Raises:
        errors.InputError: The split is missing or has no clips.
    """
    splits = info.get("splits", {})
    clips = splits.get(split, {}).get("num_clips")
    if clips is None and split in splits:
        return  # A count not recorded: the pipeline decides.
    if clips:
        if not evaluation and clips < config.input.batch_size:
            logging.warning(
                "The %s split has %d clips, fewer than a batch of %d: "
                "batches repeat clips.",
                split,
                clips,
                config.input.batch_size,
            )
        return
    counts = {name: entry.get("num_clips") for name, entry in splits.items()}
    others = [s for s, n in counts.items() if n and s != TRAIN_SPLIT]
    if evaluation and others:
        advice = f"evaluate another split, e.g. --config.eval.split={others[0]}"
    else:
        advice = "prepare the dataset with this split (binaries.prepare_data)"
    listed = ", ".join(f"{name} ({n} clips)" for name, n in counts.items())
    raise errors.InputError(
        f"{'eval.split' if evaluation else 'the training split'} {split!r} "
        f"of dataset {config.input.data_dir} "
        f"{'has no clips' if split in splits else 'is missing'} "
        f"(its splits: {listed or 'none'}); {advice}"
    )


def _check_schedule(train_config):
    """Refuses step intervals the loop cannot use (a modulo by zero)."""
    for name in (
        "log_every_steps",
        "eval_every_steps",
        "checkpoint_every_steps",
    ):
        if train_config[name] < 1:
            raise errors.InputError(
                f"train.{name} must be >= 1, got {train_config[name]}"
            )


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
        latest = self.manager.latest_checkpoint
        if latest:
            # The model alone first: it must be restored whole (the
            # optimizer of another config may legitimately differ).
            weights.restore(self.model, latest, _RESTORE_ADVICE)
        checkpoint.restore(latest).expect_partial()
        _init_weights(self.model, config.train.init_weights, latest)
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


def _loop(state, start_step, total_steps) -> dict:
    """Trains from `start_step` until `total_steps` or the target accuracy,
    logging, evaluating and checkpointing on the config's schedule."""
    config, target = state.config, state.config.train.target_accuracy
    if state.chief and not start_step:
        _write_run_summaries(state.writer, config)
    train_step, iterator = state.train_step(), state.iterator(start_step)
    progress = _Progress(total_steps, start_step, verbose=state.chief)
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
        result.update(train_loss=float(loss), train_accuracy=float(accuracy))
        _log_step(state, progress, step, loss, accuracy)
        # Evaluated before the periodic save, so that a checkpoint of the
        # stopping step records the stop; `run` saves any other last step.
        if step % config.train.eval_every_steps == 0 or step == total_steps:
            if state.evaluator:
                result["eval_accuracy"] = state.evaluator(step)
                result["eval_history"].append((step, result["eval_accuracy"]))
                progress.evaluation(
                    step, config.eval.split, result["eval_accuracy"]
                )
            if target and _any_worker(
                state.strategy,
                state.evaluator is not None
                and result["eval_accuracy"] >= target,
            ):
                state.stopped_at.assign(step)
                progress.message(
                    f"Stopped at step {step} of {total_steps}: "
                    f"{config.eval.split} accuracy reached {target}."
                )
                total_steps = step
        if step % config.train.checkpoint_every_steps == 0:
            state.manager.save(checkpoint_number=step)
    state.writer.flush()
    result["final_step"] = step
    return result


def _log_step(state, progress, step, loss, accuracy):
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


class _Progress:
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
        iter(pipeline.from_config(config.input, TRAIN_SPLIT, batch_size=3))
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


class Restored(typing.NamedTuple):
    """A run's trained model, as `restore` returns it."""

    model: keras.Model
    classes: list  # The class names, in label order.
    step: int  # The checkpoint's training step.
    config: ml_collections.ConfigDict  # The config it was built from.


def run_config(config, workdir: str):
    """The config of the run in `workdir`, for a job that reads the run.

    Args:
        config: A config overriding the run's (e.g. its `interp` or
            `eval` options), or None for the run's recorded `config.json`.
        workdir: The run's directory.

    Returns:
        `config` if given, else the recorded one as a `ConfigDict`. A run
        without `config.json` (of an older version) is not checked: the
        config given is used as it is, with a warning.

    Raises:
        errors.InputError: `config` describes another model than the run's
            (its `model_name` or `model` differ), or is None for a
            `workdir` that records no config.
    """
    recorded = rundir.read_config(workdir)
    if recorded is None:
        if config is None:
            raise errors.InputError(
                f"{workdir} has no {rundir.CONFIG}: not a training run; "
                "train it first, or give its --config"
            )
        logging.warning(
            "%s has no %s: the config given is not checked against the run",
            workdir,
            rundir.CONFIG,
        )
        return config
    if config is None:
        return ml_collections.ConfigDict(recorded)
    rundir.check_model_config(workdir, recorded, config.to_dict())
    return config


def restore(config, workdir: str) -> Restored:
    """Rebuilds the run's model and restores its latest checkpoint, whole.

    The class names come from the run's `run.json`, so the dataset is not
    read; only a run of an older version, without them, reads its
    dataset's `dataset_info.json` instead.

    Args:
        config: As for `run_config`: None for the run's recorded config.
        workdir: The run's directory.

    Raises:
        errors.InputError: No checkpoint, a config of another model, or a
            checkpoint that does not hold every variable of the model.
    """
    config = run_config(config, workdir)
    classes = rundir.read_classes(workdir)
    if classes is None:
        logging.warning(
            "%s records no class names (no %s): taking those of dataset %s",
            workdir,
            rundir.RUN,
            config.input.data_dir,
        )
        classes = prepare.read_info(config.input.data_dir)["classes"]
    directory = rundir.path(workdir, rundir.CHECKPOINTS)
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        raise errors.InputError(
            f"No checkpoint in {directory}; train the model first."
        )
    model = build_model(config, len(classes))
    weights.restore(model, latest, _RESTORE_ADVICE)
    logging.info("Restored %s.", latest)
    return Restored(model, classes, rundir.checkpoint_step(latest), config)


def load_model(config, workdir: str):
    """`restore`'s `(model, classes)`."""
    restored = restore(config, workdir)
    return restored.model, restored.classes
