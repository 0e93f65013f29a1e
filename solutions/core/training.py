"""Compile and fit: seeds, learning-rate schedules, early stopping, checkpoints and resume.

Training runs in phases (one for most models; "frozen head" then "fine-tune"
for transfer learning). After every epoch the whole model, optimizer state
included, is saved to `checkpoints/last.keras` with a small `state.json`, and
the best weights so far to `checkpoints/best.weights.h5`; `resume=True`
continues from there. Early stopping's patience counter restarts on resume.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from solutions.core.config import Recipe
from solutions.core.errors import ConfigError, UsageError
from solutions.core.runs import atomic_path, atomic_write_json, load_keras_model, read_json

LAST_CHECKPOINT = "last.keras"
BEST_WEIGHTS = "best.weights.h5"
STATE_FILE = "state.json"
RESUME_FIX = ("This checkpoint cannot continue the run: start it again without --resume, into a new --out folder "
              "(or remove the checkpoints folder of this one).")


@dataclass(frozen=True)
class Phase:
    """A stretch of training with its own learning rate and trainable layers.

    `prepare(model)` runs before the phase compiles (to unfreeze a backbone, say).
    """

    name: str
    epochs: int
    learning_rate: float
    prepare: Callable[[Any], None] | None = None


@dataclass
class TrainingResult:
    history: list[dict[str, float]] = field(default_factory=list)
    epochs_done: int = 0
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    resumed_from_epoch: int | None = None

    def summary(self) -> dict[str, Any]:
        """What the manifest records of the training: epochs, best epoch, early stop, resume."""
        return {"epochs_done": self.epochs_done, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early,
                "resumed_from_epoch": self.resumed_from_epoch}

    def followed_by(self, part: "TrainingResult") -> "TrainingResult":
        """This training and then `part`, a later part of the same model (Trainer part_of_model): one history,
        its epochs numbered on from this one's, the best epoch and early stop the part's."""
        offset = self.epochs_done
        return TrainingResult(
            self.history + [{**entry, "epoch": int(entry["epoch"]) + offset} for entry in part.history],
            offset + part.epochs_done, offset + part.best_epoch if part.best_epoch else self.best_epoch,
            part.stopped_early, self.seconds + part.seconds,
            self.resumed_from_epoch if part.resumed_from_epoch is None else offset + part.resumed_from_epoch)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend so the same seed trains the same model."""
    import keras

    keras.utils.set_random_seed(int(seed))


def make_optimizer(recipe: Recipe, learning_rate: float, total_steps: int):
    """AdamW with the recipe's schedule over `total_steps` optimizer steps."""
    import keras

    return keras.optimizers.AdamW(learning_rate=learning_rate_schedule(recipe, learning_rate, total_steps),
                                  weight_decay=recipe.weight_decay)


def learning_rate_schedule(recipe: Recipe, learning_rate: float, total_steps: int):
    """The recipe's learning-rate schedule (constant, cosine or one_cycle) over `total_steps` steps."""
    import keras

    total_steps = max(1, int(total_steps))
    if recipe.lr_schedule == "constant":
        schedule: Any = learning_rate
    elif recipe.lr_schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps, alpha=0.01)
    else:  # one_cycle: linear warm-up over 30% of the steps to the peak, cosine anneal to 1/1000 of it
        warmup = max(1, int(0.3 * total_steps))
        schedule = keras.optimizers.schedules.CosineDecay(
            learning_rate / 25, decay_steps=max(1, total_steps - warmup), alpha=1e-3,
            warmup_target=learning_rate, warmup_steps=warmup,
        )
    return schedule


def checkpoint_exists(checkpoint_dir: Path) -> bool:
    return (Path(checkpoint_dir) / LAST_CHECKPOINT).is_file() and (Path(checkpoint_dir) / STATE_FILE).is_file()


def train(
    model,
    train_data,
    val_data,
    *,
    recipe: Recipe,
    phases: list[Phase],
    loss: Any,
    metrics: list[Any],
    steps_per_epoch: int,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    class_weight: dict[int, float] | None = None,
    progress: bool = True,
    custom_objects: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
    optimizer_factory: Callable[[Recipe, float, int], Any] | None = None,
):
    """Train `model` through `phases`; return (trained model, TrainingResult).

    `optimizer_factory(recipe, learning_rate, total_steps)` makes each phase's optimizer
    (default: `make_optimizer`, AdamW with the recipe's schedule).

    The returned model holds the weights of the epoch with the best `recipe.monitor` (validation loss by default).
    """
    import keras

    result = TrainingResult()
    start_epoch, state = 0, {}
    if resume:
        if checkpoint_dir is None or not checkpoint_exists(checkpoint_dir):
            raise UsageError(
                f"--resume found no checkpoint in {checkpoint_dir}. A checkpoint is written after each finished "
                "epoch; start the run without --resume, or pass the --out folder of the interrupted run."
            )
        state = read_json(Path(checkpoint_dir) / STATE_FILE)
        model = load_keras_model(Path(checkpoint_dir) / LAST_CHECKPOINT, custom_objects, fix=RESUME_FIX)
        start_epoch = int(state["epochs_done"])
        result.history = list(state.get("history", []))
        result.resumed_from_epoch = start_epoch

    total_epochs = sum(p.epochs for p in phases)
    recorder_class, checkpoint_class = _callbacks()
    monitor = Monitor(recipe.monitor)
    recorder = recorder_class(result, total_epochs, progress, monitor)
    checkpoint = checkpoint_class(checkpoint_dir, result, state, monitor) if checkpoint_dir else None
    began = time.perf_counter()
    phase_start = 0
    for index, phase in enumerate(phases):
        phase_end = phase_start + phase.epochs
        if start_epoch >= phase_end:
            phase_start = phase_end
            continue
        continuing = resume and start_epoch > phase_start
        if not continuing:
            if phase.prepare is not None:
                phase.prepare(model)
            model.compile(
                optimizer=(optimizer_factory or make_optimizer)(recipe, phase.learning_rate, phase.epochs * steps_per_epoch),
                loss=loss, metrics=metrics,
            )
        recorder.phase = phase.name
        phase_callbacks: list[Any] = [recorder] + ([checkpoint] if checkpoint else []) + list(callbacks or [])
        last_phase = index == len(phases) - 1
        if recipe.early_stopping_patience > 0 and last_phase:
            phase_callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor.name, mode=monitor.mode,
                                                                 patience=recipe.early_stopping_patience))
        model.fit(
            train_data, validation_data=val_data, epochs=phase_end,
            initial_epoch=max(start_epoch, phase_start), callbacks=phase_callbacks, verbose=0, shuffle=False,
            class_weight=class_weight,
        )
        done = int(result.history[-1]["epoch"]) if result.history else 0
        result.stopped_early = last_phase and done < phase_end
        phase_start = phase_end
        start_epoch = max(start_epoch, done)

    result.epochs_done = int(result.history[-1]["epoch"]) if result.history else 0
    result.seconds = time.perf_counter() - began
    result.best_epoch = monitor.best_epoch(result.history)
    if checkpoint_dir is not None and (Path(checkpoint_dir) / BEST_WEIGHTS).is_file():
        model.load_weights(Path(checkpoint_dir) / BEST_WEIGHTS)
    elif recorder.best_weights is not None:
        model.set_weights(recorder.best_weights)
    return model, result


@dataclass(frozen=True)
class Monitor:
    """The validation figure that picks the best epoch: losses are better lower, every other figure higher."""

    name: str = "val_loss"

    @property
    def mode(self) -> str:
        return "min" if self.name.endswith("loss") else "max"

    @property
    def worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def value(self, logs: dict[str, Any] | None) -> float:
        """The monitored figure in an epoch's logs; ConfigError naming the logged figures when it is absent."""
        logs = logs or {}
        if self.name not in logs:
            logged = sorted(k for k in logs if k.startswith("val_"))
            if not logged:  # no validation data this epoch: nothing to compare
                return self.worst
            raise ConfigError(f"Recipe key `monitor` is {self.name!r}, which this model does not log. "
                              f"Validation figures logged: {', '.join(logged)}. Pass --set monitor=NAME with one of them.")
        return float(logs[self.name])

    def better(self, value: float, best: float) -> bool:
        return value < best if self.mode == "min" else value > best

    def best_epoch(self, history: list[dict[str, Any]]) -> int:
        """The epoch with the best monitored figure (the first epoch when none was logged)."""
        best, epoch = self.worst, 0
        for entry in history:
            value = entry.get(self.name, self.worst)
            if epoch == 0 or self.better(value, best):
                best, epoch = value, int(entry["epoch"])
        return epoch


def _clean(logs: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}


def _callbacks():
    """The callback classes, defined on first use so importing this module does not import Keras."""
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        """Record each epoch into the result, keep the best weights, print one line per epoch to stderr."""

        def __init__(self, result: TrainingResult, total_epochs: int, progress: bool, monitor: Monitor):
            super().__init__()
            self.result, self.total_epochs, self.progress, self.monitor = result, total_epochs, progress, monitor
            self.phase = ""
            self.best_weights = None
            self.best = monitor.worst
            for entry in result.history:
                if monitor.better(entry.get(monitor.name, monitor.worst), self.best):
                    self.best = entry[monitor.name]

        def on_epoch_begin(self, epoch, logs=None):
            self._began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            entry: dict[str, Any] = {"epoch": epoch + 1, **_clean(logs), "seconds": time.perf_counter() - self._began}
            entry["phase"] = self.phase
            self.result.history.append(entry)
            value = self.monitor.value(logs)
            if self.monitor.better(value, self.best):
                self.best = value
                self.best_weights = self.model.get_weights()
            if self.progress:
                shown = "  ".join(f"{k} {v:.4f}" for k, v in entry.items() if k not in ("epoch", "seconds", "phase", "learning_rate"))
                print(f"epoch {epoch + 1}/{self.total_epochs} [{self.phase}]  {shown}  ({entry['seconds']:.1f}s)",
                      file=sys.stderr, flush=True)


    class EpochCheckpoint(keras.callbacks.Callback):
        """After each epoch: the full model to last.keras, best weights, and state.json."""

        def __init__(self, directory: Path, result: TrainingResult, state: dict[str, Any], monitor: Monitor):
            super().__init__()
            self.directory = Path(directory)
            self.result, self.monitor = result, monitor
            same = state.get("monitor", "val_loss") == monitor.name
            self.best = float(state.get("best", state.get("best_val_loss", monitor.worst))) if same else monitor.worst

        def on_epoch_end(self, epoch, logs=None):
            # Every worker of a multi-worker run writes its own (a non-chief into a temporary folder: see
            # Solution.fit), so that all pick the same best weights, also after --resume.
            value = self.monitor.value(logs)
            if self.monitor.better(value, self.best) or not (self.directory / BEST_WEIGHTS).is_file():
                self.best = value if self.monitor.better(value, self.best) else self.best
                with atomic_path(self.directory / BEST_WEIGHTS) as tmp:
                    self.model.save_weights(tmp)
            with atomic_path(self.directory / LAST_CHECKPOINT) as tmp:
                self.model.save(tmp)
            atomic_write_json(self.directory / STATE_FILE, {
                "epochs_done": epoch + 1, "monitor": self.monitor.name, "best": self.best, "history": self.result.history,
            })

    return EpochRecorder, EpochCheckpoint


def balanced_class_weight(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Class weights inversely proportional to class frequency (scikit-learn's "balanced"), 1 for absent classes."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y)
    weights = compute_class_weight("balanced", classes=present, y=y)
    result = {int(c): 1.0 for c in range(n_classes)}
    result.update({int(c): float(w) for c, w in zip(present, weights)})
    return result
