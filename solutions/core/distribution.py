"""Training on several devices with TensorFlow's distribution strategies.

`distribution` in a recipe picks the strategy:

    none          one device (the default)
    mirrored      every GPU of this machine, or its logical CPU devices (see split_cpu)
    multi_worker  MultiWorkerMirroredStrategy across machines, configured by TF_CONFIG

`batch_size` is the global batch: each of the N replicas gets batch_size / N
examples, so the gradient of a step is the mean over the same global batch as
on one device and the learning rate needs no rescaling.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from solutions.core.errors import ConfigError

STRATEGIES = ("none", "mirrored", "multi_worker")


def split_cpu(n: int) -> None:
    """Split the CPU into `n` logical devices (for mirrored training on a CPU-only machine).

    Must run before TensorFlow creates its devices (before any model or tensor).
    """
    import tensorflow as tf

    if n < 1:
        raise ConfigError(f"--cpu-devices must be an integer >= 1. Received: {n}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        raise ConfigError(
            "The CPU can only be split into logical devices before TensorFlow starts; pass --cpu-devices "
            "on the command line, or call split_cpu() first thing in your script."
        ) from None


def make_strategy(name: str, batch_size: int):
    """The tf.distribute strategy for `name`, or None for "none". Raises ConfigError when it cannot be honoured."""
    if name == "none":
        return None
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ConfigError(
            f"distribution={name!r} uses TensorFlow's distribution strategies, but Keras runs on the "
            f"{keras.backend.backend()!r} backend. Set KERAS_BACKEND=tensorflow or use distribution=none."
        )
    import tensorflow as tf

    if name == "multi_worker":
        _check_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            strategy = tf.distribute.MirroredStrategy()
        else:
            cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
            if len(cpus) < 2:
                raise ConfigError(
                    "distribution=mirrored needs at least two devices, and this machine has no GPU and one CPU "
                    "device. Split the CPU with `ksol --cpu-devices 2 train ...` (or split_cpu(2) in Python), "
                    "or use distribution=none."
                )
            strategy = tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(
            f"batch_size is the global batch and must divide evenly over the {replicas} replicas of "
            f"distribution={name!r}. Received: batch_size={batch_size}. Use a multiple of {replicas}."
        )
    return strategy


def strategy_scope(strategy: Any):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def is_chief() -> bool:
    """True unless this process is a non-chief worker of a multi-worker run (only the chief writes files)."""
    config = os.environ.get("TF_CONFIG")
    if not config:
        return True
    task = json.loads(config).get("task", {})
    return task.get("type") in ("chief", None) or (task.get("type") == "worker" and int(task.get("index", 0)) == 0
                                                     and "chief" not in json.loads(config).get("cluster", {}))


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ConfigError(
            "distribution=multi_worker needs the TF_CONFIG environment variable describing the cluster and this "
            'worker, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'. See the README section "More than one device".'
        )
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        config["task"]["type"], int(config["task"]["index"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"TF_CONFIG must be JSON with cluster.worker (a list of host:port) and task.type / task.index. Received: {raw!r}."
        ) from None
    if not isinstance(workers, list) or not workers:
        raise ConfigError(f"TF_CONFIG cluster.worker must be a non-empty list of host:port. Received: {workers!r}.")
