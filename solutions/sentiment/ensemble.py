"""The sentiment ensemble (model="ensemble"): members trained on one split, probabilities averaged in one model.

The first of `ensemble_members` is the run's model, trained by the workflow's own loop (or, for the encoder,
on cached embeddings); each other member is built, adapted and trained here through the run's Trainer as a
part of the run's model (checkpoints in checkpoints/member_<name>/ or encoder_head/). The weights are chosen
on the validation split (`choose_ensemble_weights`) and the saved model averages the members' probabilities
with them (layers.ProbabilityAverage): raw strings in, probabilities out, like every sentiment model.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from solutions.sentiment.recipe import ENSEMBLE_WEIGHT_STEP

AVERAGE_LAYER = "ensemble_average"


@dataclass(frozen=True)
class EnsembleWeights:
    """The chosen weights (one per member, summing to 1) and their validation accuracy and cross-entropy."""

    weights: tuple[float, ...]
    accuracy: float
    cross_entropy: float


def choose_ensemble_weights(probabilities: list[np.ndarray], y: np.ndarray,
                            step: float = ENSEMBLE_WEIGHT_STEP) -> EnsembleWeights:
    """The weights on a grid of `step` (non-negative, summing to 1) whose average of the members' validation
    `probabilities` is most accurate on labels `y`; among equally accurate ones, the lowest cross-entropy.

    >>> y = np.array([0, 0, 1, 1])
    >>> good = np.array([[0.8, 0.2], [0.7, 0.3], [0.3, 0.7], [0.2, 0.8]])
    >>> choose_ensemble_weights([good, good[::-1]], y, step=0.5).weights
    (1.0, 0.0)
    """
    stacked = np.stack([np.asarray(p, np.float64) for p in probabilities])  # (members, N, classes)
    steps, k = round(1 / step), len(probabilities)
    best: EnsembleWeights | None = None
    for bars in itertools.combinations(range(steps + k - 1), k - 1):  # stars and bars: every split of `steps`
        counts = np.diff([-1, *bars, steps + k - 1]) - 1
        weights = counts / steps
        average = np.tensordot(weights, stacked, axes=1)
        accuracy = float(np.mean(average.argmax(axis=1) == y))
        cross_entropy = float(-np.mean(np.log(np.clip(average[np.arange(len(y)), y], 1e-7, 1.0))))
        if best is None or (accuracy, -cross_entropy) > (best.accuracy, -best.cross_entropy):
            best = EnsembleWeights(tuple(float(w) for w in weights), accuracy, cross_entropy)
    return best


def build_ensemble_model(members: list[tuple[str, Any]], weights: tuple[float, ...]):
    """One model averaging the members' probabilities with `weights`; members weighted 0 are left out."""
    import keras

    from solutions.sentiment.layers import ProbabilityAverage

    kept = [(name, model, w) for (name, model), w in zip(members, weights) if w > 0]
    text = keras.Input(shape=(), dtype="string", name="text")
    outputs = [model(text) for _, model, _ in kept]
    average = ProbabilityAverage([w for *_, w in kept], [name for name, *_ in kept], name=AVERAGE_LAYER)(outputs)
    return keras.Model(text, average, name="sentiment_ensemble")


def ensemble_notes(model) -> dict[str, Any]:
    """What the report says of an ensemble's weights ({} for any other model).

    >>> ensemble_notes(None)
    {}
    """
    names = {layer.name for layer in getattr(model, "layers", [])}
    if AVERAGE_LAYER not in names:
        return {}
    layer = model.get_layer(AVERAGE_LAYER)
    shown = ", ".join(f"{name} {w:.2f}" for name, w in zip(layer.names, layer.member_weights))
    return {"ensemble weights": f"{shown} (the average of their probabilities; weights chosen on the validation split)"}


def predict_texts(model, texts: np.ndarray, batch_size: int = 256) -> np.ndarray:
    import tensorflow as tf

    return np.asarray(model.predict(tf.data.Dataset.from_tensor_slices(texts.astype(str)).batch(batch_size), verbose=0))


def train_ensemble(model, splits, schema: dict[str, Any], recipe, trainer, make_dataset: Callable,
                   loss_and_metrics: Callable, build_member: Callable) -> tuple[Any, dict[str, Any]]:
    """SentimentSolution.extend_model for model=ensemble: (the ensemble model, training notes).

    `model` is the first member as the workflow trained it; `build_member(member_recipe)` builds and adapts
    another; `make_dataset(split, member_recipe, training)` and `loss_and_metrics()` are the solution's.
    """
    from solutions.sentiment.embedding_cache import train_encoder_head
    from solutions.sentiment.model import word_vector_notes
    from solutions.sentiment.normalize import normalize_texts

    val_texts = normalize_texts(splits.val.x, schema["normalize"])
    trained, val_probabilities, notes = [], [], {}
    for index, name in enumerate(recipe.members()):
        member_recipe = recipe.member_recipe(name)
        member = model if index == 0 else build_member(member_recipe)
        if name == "encoder":
            head = train_encoder_head(member, splits, schema, member_recipe, trainer, loss_and_metrics)
            probabilities, member_notes = head.val_probabilities, head.notes
        else:
            if index > 0:
                loss, metrics = loss_and_metrics()
                steps = math.ceil(len(splits.train) / member_recipe.batch_size)
                member, _ = trainer(member, make_dataset(splits.train, member_recipe, True),
                                    make_dataset(splits.val, member_recipe, False), loss, metrics, member_recipe,
                                    f"member_{name}", steps, part_of_model=True)
            probabilities, member_notes = predict_texts(member, val_texts), word_vector_notes(member)
        trained.append((name, member))
        val_probabilities.append(probabilities)
        notes[f"{name}: training"] = (f"{member_recipe.optimizer}, learning rate {member_recipe.learning_rate:g}, "
                                      f"{member_recipe.epochs} epochs; validation accuracy "
                                      f"{np.mean(probabilities.argmax(axis=1) == splits.val.y):.4f}")
        notes.update({f"{name}: {key}": value for key, value in member_notes.items()})
    chosen = choose_ensemble_weights(val_probabilities, np.asarray(splits.val.y))
    ensemble = build_ensemble_model(trained, chosen.weights)
    left_out = [name for (name, _), w in zip(trained, chosen.weights) if w == 0]
    notes.update(ensemble_notes(ensemble))
    notes["ensemble validation"] = (f"accuracy {chosen.accuracy:.4f}, cross-entropy {chosen.cross_entropy:.4f}"
                                    + (f"; left out (weight 0): {', '.join(left_out)}" if left_out else ""))
    notes["ensemble weights by member"] = dict(zip(recipe.members(), chosen.weights))
    return ensemble, notes
