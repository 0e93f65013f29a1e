"""Training on several devices with TensorFlow's distribution strategies.

`distribution` in a recipe picks the strategy:

    none          one device (the default)
    mirrored      every GPU of this machine, or its logical CPU devices (see split_cpu)
    multi_worker  MultiWorkerMirroredStrategy across machines, configured by TF_CONFIG

`batch_size` is the global batch: each of the N replicas gets batch_size / N
examples, so the gradient of a step is the mean over the same global batch as
on one device and the learning rate needs no rescaling.

In a multi-worker run every worker runs the same program (fit, then evaluate:
predictions are gathered across the workers, so each must make them), and only
the chief writes: a non-chief worker trains in a temporary folder of its own
(`worker_scratch`), which it removes, and writes nothing into the run directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
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
        strategy = _multi_worker_strategy_class()()
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
    """True unless this process is a non-chief worker of a multi-worker run (only the chief writes files).

    The chief is the task of type "chief", or worker 0 when the cluster has no chief. A TF_CONFIG that cannot
    be read makes no worker (True): make_strategy reports it, naming what is wrong, before anything is written.
    """
    try:
        config = _read_tf_config()
    except ConfigError:
        return True
    if config is None:
        return True
    task = config["task"]
    if task["type"] == "chief":
        return True
    return task["type"] == "worker" and int(task["index"]) == 0 and "chief" not in config["cluster"]


def writes_files(distribution: str) -> bool:
    """Whether this process writes the run directory: every process but a non-chief worker of a
    distribution=multi_worker run."""
    return distribution != "multi_worker" or is_chief()


def worker_scratch(run_dir: str | Path | None, distribution: str, resume: bool) -> tempfile.TemporaryDirectory | None:
    """For a non-chief worker of a multi-worker run, a temporary folder to train in instead of `run_dir`
    (its checkpoints, recipe.yaml); None for every other process. The caller removes it (`cleanup()`; else it
    goes when garbage-collected or at exit). With `resume`, the chief's recipe.yaml and checkpoints are copied
    in first, read only, so that every worker continues from the same epoch and weights: on several machines
    that needs the run directory on a shared filesystem."""
    if run_dir is None or writes_files(distribution):
        return None
    scratch = tempfile.TemporaryDirectory(prefix="ksol-worker-")
    source = Path(run_dir)
    if resume and (source / "recipe.yaml").is_file():
        shutil.copy2(source / "recipe.yaml", Path(scratch.name) / "recipe.yaml")
    if resume and (source / "checkpoints").is_dir():  # temporaries (".tmp-...", ".x.old-...") are left out
        shutil.copytree(source / "checkpoints", Path(scratch.name) / "checkpoints", ignore=shutil.ignore_patterns(".*"))
    return scratch


def _read_tf_config() -> dict[str, Any] | None:
    """TF_CONFIG as a dict with cluster.worker and task.type / task.index checked; None when it is not set.
    ConfigError naming what is wrong otherwise."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    shape = ('TF_CONFIG must be JSON with cluster.worker (a list of host:port) and task.type / task.index, e.g. '
             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}.')
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise ConfigError(f"{shape} It is not valid JSON ({error}). Received: {raw!r}.") from None
    try:
        workers = config["cluster"]["worker"]
        task_type, index = config["task"]["type"], int(config["task"]["index"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{shape} Received: {raw!r}.") from None
    if not isinstance(workers, list) or not workers:
        raise ConfigError(f"TF_CONFIG cluster.worker must be a non-empty list of host:port. Received: {workers!r}.")
    tasks = config["cluster"].get(task_type)
    if not isinstance(tasks, list) or not 0 <= index < len(tasks):
        known = ", ".join(f"{k} ({len(v)})" for k, v in config["cluster"].items() if isinstance(v, list))
        raise ConfigError(f"TF_CONFIG task {task_type!r} index {index} is not in the cluster, which has: {known}. "
                          f"Received: {raw!r}.")
    return config


def _check_tf_config() -> None:
    if _read_tf_config() is None:
        raise ConfigError(
            "distribution=multi_worker needs the TF_CONFIG environment variable describing the cluster and this "
            'worker, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'. See the README section "More than one device".'
        )


def _multi_worker_strategy_class():
    """MultiWorkerMirroredStrategy with a `reduce` that Keras 3 can use (TF 2.21, Keras 3.15).

    Keras calls `strategy.reduce("MEAN", batch, axis=None)` on a nest (inputs, labels) to build the model
    before fit, which TF's collective strategy does not take ("Attempt to convert a value (PerReplica ...)"),
    and `strategy.reduce("MEAN", value, axis=0)` on the scalar loss and metrics of every step, which fails
    ("Invalid reduction dimension 0 for input with 0 dimensions"; keras-team/keras#20585, tensorflow#72388).
    Here a nest is reduced leaf by leaf, a scalar across replicas (axis=None: the mean of the replicas'
    values, as Keras does on one machine), and a leaf that cannot be averaged (strings) is this worker's own
    value: Keras reads only its shape and dtype.
    """
    import tensorflow as tf

    class KerasMultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis=None):
            distributed = isinstance(value, tf.distribute.DistributedValues)
            if not distributed and tf.nest.is_nested(value):
                return tf.nest.map_structure(lambda leaf: self.reduce(reduce_op, leaf, axis), value)
            local = tf.convert_to_tensor(self.experimental_local_results(value)[0] if distributed else value)
            if not (local.dtype.is_floating or local.dtype.is_integer):
                return local
            return super().reduce(reduce_op, value, axis=None if local.shape.rank == 0 else axis)

    return KerasMultiWorkerMirroredStrategy
