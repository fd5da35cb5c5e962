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
from tfvidinterp import precision
from tfvidinterp.data import pipeline
from tfvidinterp.data import prepare
from tfvidinterp.jobs import rundir
from tfvidinterp.jobs import train_eval
from tfvidinterp.jobs import train_log
from tfvidinterp.jobs import train_model
from tfvidinterp.jobs import train_state
from tfvidinterp.report import tensorboard

TRAIN_SPLIT = train_state.TRAIN_SPLIT  # The split training reads.
# Importable from `train`, where they were before the split.
Evaluator = train_eval.Evaluator
build_model = train_model.build_model
Restored = train_model.Restored
run_config = train_model.run_config
restore = train_model.restore
load_model = train_model.load_model


def steps_per_epoch(config, info):
    """Steps in one pass over the training split at the global batch size."""
    if config.train.steps_per_epoch:
        return config.train.steps_per_epoch
    clips = info["splits"][TRAIN_SPLIT]["num_clips"]
    return max(clips // config.input.batch_size, 1)


def run(config, workdir: str) -> dict:
    """Trains `config`'s model into `workdir`, resuming if it holds a run.

    The model computes in `train.mixed_precision`'s policy; Keras's global
    policy is as it was before when this returns.

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
    # The run's policy for its own layers only: the global one is restored
    # after, so that models built later in the process (a sweep's next
    # seed, the demo's jobs) take theirs.
    with precision.scope(precision.of_run(config.train.mixed_precision)):
        return _train(config, workdir)


def _train(config, workdir):
    strategy = _set_up(config)
    info = prepare.read_info(config.input.data_dir)
    _check_schedule(config.train)
    check_split(config, info, TRAIN_SPLIT)
    # Every worker checks, so that all of them stop, not the chief alone.
    rundir.record(
        workdir, config.to_dict(), info, write=distribute.is_chief(strategy)
    )
    total_steps = config.train.epochs * steps_per_epoch(config, info)
    state = train_state.State(
        config, workdir, strategy, len(info["classes"]), total_steps
    )
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
    logging.info("Precision: %s.", keras.mixed_precision.global_policy().name)
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


def _loop(state, start_step, total_steps) -> dict:
    """Trains from `start_step` until `total_steps` or the target accuracy,
    logging, evaluating and checkpointing on the config's schedule."""
    config, target = state.config, state.config.train.target_accuracy
    if state.chief and not start_step:
        _write_run_summaries(state.writer, config)
    train_step, iterator = state.train_step(), state.iterator(start_step)
    progress = train_log.Progress(total_steps, start_step, verbose=state.chief)
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
        train_log.log_step(state, progress, step, loss, accuracy)
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
