"""Picks the tf.distribute strategy a run asks for by name."""

import json
import os

import tensorflow as tf

from tfvidinterp import errors

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker_mirrored")


def get_strategy(name: str) -> tf.distribute.Strategy:
    """Returns the strategy named `name`.

    Args:
        name: `default` (no distribution), `one_device` (the first GPU, else
            the CPU), `mirrored` (every local GPU; without GPUs every logical
            CPU device, which is how tests exercise it) or
            `multi_worker_mirrored` (several machines, described by
            `TF_CONFIG`).

    Raises:
        errors.InputError: for an unknown name.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(
            gpus[0].name if gpus else "/cpu:0"
        )
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU")
        devices = devices or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise errors.InputError(
        f"Unknown strategy {name!r}; known: {list(STRATEGIES)}"
    )


def task():
    """Returns `(task_type, task_id)` from `TF_CONFIG`, `("chief", 0)` alone."""
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}"))
    spec = cluster.get("task", {})
    return spec.get("type", "chief"), int(spec.get("index", 0))


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the real checkpoints and summaries.

    With several workers and no `chief` task, worker 0 is the chief, as in
    the TensorFlow multi-worker guide.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "chief" or (
        not has_chief and task_type == "worker" and task_id == 0
    )
