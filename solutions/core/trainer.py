"""Trainer: what `extend_model` receives to train one more network through core.training."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from solutions.core.config import Recipe


@dataclass(frozen=True)
class Trainer:
    """Trains one more network of a solution through core.training, in the run's checkpoint folder.

    `extend_model` receives one: `trainer(model, train_data, val_data, loss, metrics, recipe, name)`
    trains through the same loop as the main model (checkpoints in checkpoints/<name>/, --resume,
    early stopping on the recipe's monitor) and returns (model, TrainingResult).
    With `part_of_model=True` the network is a part of the run's own model (a transfer model's head on
    cached features, then its top blocks): its epochs join the run's history, in the order trained.
    """

    checkpoint_dir: Path | None
    resume: bool
    progress: bool
    custom_objects: dict[str, Any]
    optimizer_factory: Callable[..., Any]
    parts: list = field(default_factory=list)  # TrainingResults of the parts of the run's own model

    def __call__(self, model, train_data, val_data, loss, metrics, recipe: Recipe, name: str, steps_per_epoch: int,
                 part_of_model: bool = False):
        from solutions.core.training import Phase, checkpoint_exists, train

        folder = None if self.checkpoint_dir is None else self.checkpoint_dir / name
        resume = self.resume and folder is not None and checkpoint_exists(folder)
        model, result = train(model, train_data, val_data, recipe=recipe, phases=[Phase(name, recipe.epochs, recipe.learning_rate)],
                              loss=loss, metrics=metrics, steps_per_epoch=steps_per_epoch, checkpoint_dir=folder, resume=resume,
                              progress=self.progress, custom_objects=self.custom_objects, optimizer_factory=self.optimizer_factory)
        if part_of_model:
            self.parts.append(result)
        return model, result
