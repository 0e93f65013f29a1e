"""Transfer learning on cached activations: what is frozen runs once per image, not once per epoch.

With pretrained weights (and `feature_cache` on), ImageSolution.extend_model trains a transfer model
in two parts, each through the run's Trainer as a part of the run's own model (core/trainer.py:
checkpoints in checkpoints/<part>/, --resume, the recipe's monitor and early stopping; the epochs
join the run's history):

1. "frozen_backbone", `freeze_epochs` epochs at `learning_rate`: the backbone is frozen, so the pooled
   features of every training image are computed once (the plain image, plus `feature_cache_views`
   augmented views when the recipe augments) and the head (dropout, classifier) trains on them; each
   epoch draws one view per image. Validation features are cached once, plain.
2. "fine_tune", the remaining epochs at `fine_tune_learning_rate` (when fine_tune_blocks is not 0): the
   top `fine_tune_blocks` blocks unfreeze (batch norm stays frozen); the activations entering the first
   of them are cached the same way, and only the layers above train. With every block unfrozen
   (fine_tune_blocks null) nothing below stays frozen: the whole network trains on pixels.

Each part's network shares its layers with the full one, which is what is saved: raw pixels in. The
cache is held in memory up to `feature_cache_mb`; beyond that it is written as memory-mapped .npy files
to checkpoints/feature_cache/ in the run folder (refused when there is none, or too little disk), and
removed when the part ends.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from solutions.core.errors import ConfigError
from solutions.core.wording import plural
from solutions.imaging.backbones import (resolve_backbone, set_backbone_trainable, top_blocks, uses_feature_cache,
                                         weights_fingerprint)

CACHE_FOLDER = "feature_cache"


@dataclass(frozen=True)
class Cut:
    """A network cut in two at one tensor: `below` is frozen and cached, `above` trains.

    `augment` (pixels -> augmented pixels, None when the model does not augment) runs with
    training=True for augmented views; `below` ((augmented) pixels -> activations at the cut) always
    with training=False; `above` (activations -> the model's outputs) shares its layers with the model.
    """

    where: str
    augment: Any
    below: Any
    above: Any


def _node(layer):
    return layer._inbound_nodes[0]  # the one call of the layer in its model's graph


def _augment_output(model):
    """The model's augmentation layer's output tensor, or None when it has none (Identity)."""
    import keras

    names = {layer.name for layer in model.layers}
    if "augment" not in names or isinstance(model.get_layer("augment"), keras.layers.Identity):
        return None
    return _node(model.get_layer("augment")).output_tensors[0]


def _submodel(inputs, outputs):
    import keras

    return keras.Model(inputs, outputs)


def head_cut(model) -> Cut:
    """The cut after global pooling: everything up to the pooled features is frozen, the head above trains."""
    pool = model.get_layer("pool")
    cut = _node(pool).output_tensors[0]
    augmented = _augment_output(model)
    start = model.inputs[0] if augmented is None else augmented
    return Cut("pooled features", None if augmented is None else _submodel(model.inputs[0], augmented),
               _submodel(start, cut), _submodel(cut, model.outputs[0]))


def block_cut(model, blocks: int | None) -> Cut | None:
    """The cut below the first of the backbone's top `blocks` blocks; None when that is the backbone's input
    (every block unfrozen: nothing below to cache)."""
    import keras

    backbone = model.get_layer("backbone")
    unfrozen = top_blocks(backbone, blocks)
    members = [layer for _, group in unfrozen for layer in group]
    produced = {id(t) for layer in members for t in _node(layer).output_tensors}
    entering = {id(t): t for layer in members for t in _node(layer).input_tensors if id(t) not in produced}
    if not members or any(t is backbone.inputs[0] for t in entering.values()):
        return None
    first = unfrozen[0][0]
    if len(entering) != 1:
        raise ConfigError(f"Recipe key `fine_tune_blocks`: the backbone cannot be cut below its block {first}, where "
                          f"{len(entering)} tensors enter the unfrozen blocks. Received: fine_tune_blocks={blocks}; "
                          "choose one block more or fewer.")
    inner = next(iter(entering.values()))
    backbone_in, backbone_out = _node(backbone).input_tensors[0], _node(backbone).output_tensors[0]
    augmented = _augment_output(model)
    start = model.inputs[0] if augmented is None else augmented
    pixels = keras.Input(tuple(start.shape[1:]))
    x = pixels if start is backbone_in else _submodel(start, backbone_in)(pixels)
    below = keras.Model(pixels, _submodel(backbone.inputs[0], inner)(x))
    activations = keras.Input(tuple(inner.shape[1:]))
    y = _submodel(backbone_out, model.outputs[0])(_submodel(inner, backbone.outputs[0])(activations))
    producer = inner._keras_history.operation.name if hasattr(inner, "_keras_history") else "the block below"
    return Cut(f"{producer} activations", None if augmented is None else _submodel(model.inputs[0], augmented),
               below, keras.Model(activations, y))


@dataclass
class Cache:
    """Cached activations of one split: (views, N, ...) float32, in memory or memory-mapped, with the targets."""

    features: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None

    def dataset(self, batch_size: int, shuffle: bool, seed: int):
        """A tf.data.Dataset of (activations, targets[, sample weights]) batches; each pass (epoch) a new seeded
        order and, per image, one of its views."""
        import tensorflow as tf

        views, n = self.features.shape[:2]
        epochs = itertools.count()

        def batches():
            rng = np.random.default_rng([seed, next(epochs)])
            order = rng.permutation(n) if shuffle else np.arange(n)
            drawn = rng.integers(0, views, n) if views > 1 else np.zeros(n, dtype=np.int64)
            for start in range(0, n, batch_size):
                index, view = order[start:start + batch_size], drawn[start:start + batch_size]
                batch = (np.asarray(self.features[view, index]), self.targets[index])
                yield batch if self.weights is None else (*batch, self.weights[index])

        spec = [tf.TensorSpec((None, *self.features.shape[2:]), tf.float32),
                tf.TensorSpec((None, *self.targets.shape[1:]), tf.float32)]
        if self.weights is not None:
            spec.append(tf.TensorSpec((None,), tf.float32))
        dataset = tf.data.Dataset.from_generator(batches, output_signature=tuple(spec))
        return dataset.apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size))).prefetch(2)


def cache_bytes(cut: Cut, n_train: int, n_val: int, views: int) -> int:
    return 4 * math.prod(int(d) for d in cut.below.output.shape[1:]) * (views * n_train + n_val)


def encoders(cut: Cut) -> tuple[Any, Any]:
    """(plain, augmented): tf.functions from a batch of pixels to the activations at the cut, each traced once."""
    import tensorflow as tf

    source = cut.below if cut.augment is None else cut.augment
    pixels = tf.TensorSpec((None, *source.inputs[0].shape[1:]), tf.float32)

    def encode(augmenting: bool):
        def run(x):
            if cut.augment is not None:
                x = cut.augment(x, training=augmenting)
            return cut.below(x, training=False)

        return tf.function(run, input_signature=[pixels])

    return encode(False), encode(True)


def compute_cache(cut: Cut, dataset, n: int, views: int, folder: Path | None, name: str,
                  class_weights: np.ndarray | None, encode=None) -> Cache:
    """Run `cut.below` over `dataset` (unshuffled batches of (pixels, targets, ...)) once per view: view 0 the
    plain images, the others augmented. Into memory, or into `folder`/`name`.npy memory-mapped when given."""
    shape = (views, n, *(int(d) for d in cut.below.output.shape[1:]))
    if folder is None:
        features = np.empty(shape, np.float32)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        features = np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=np.float32, shape=shape)
    plain, augmented = encode or encoders(cut)
    targets = []
    for view in range(views):
        start = 0
        for batch in dataset:
            x = batch[0]
            activations = (plain if view == 0 else augmented)(x).numpy()
            features[view, start:start + len(activations)] = activations
            start += len(activations)
            if view == 0:
                targets.append(np.asarray(batch[1], np.float32))
        if start != n:
            raise RuntimeError(f"the dataset gave {start} examples, expected {n}")
    if folder is not None:
        features.flush()
    y = np.concatenate(targets)
    weights = None if class_weights is None else class_weights[np.argmax(y, axis=1)].astype(np.float32)
    return Cache(features, y, weights)


def _cache_folder(trainer, needed: int, budget_mb: int) -> Path | None:
    """None (memory) when `needed` bytes fit the budget, else the run's folder for the cache; ConfigError when none fits."""
    if needed <= budget_mb * 2**20:
        return None
    size = f"{needed / 2**20:,.0f} MB"
    if trainer.checkpoint_dir is None:
        raise ConfigError(f"The feature cache needs {size}, more than feature_cache_mb={budget_mb}, and without a run "
                          "folder there is no disk to hold it. Raise --set feature_cache_mb, train with a run folder "
                          "(--out, or fit(run_dir=...)), or set feature_cache=false.")
    folder = Path(trainer.checkpoint_dir) / CACHE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed * 1.05:
        raise ConfigError(f"The feature cache needs {size}, more than feature_cache_mb={budget_mb}, and the disk of "
                          f"{folder} has {free / 2**20:,.0f} MB free. Free disk space, raise --set feature_cache_mb, "
                          "lower image_size or feature_cache_views, or set feature_cache=false.")
    return folder


def train_on_cache(cut: Cut, part: str, splits, recipe, trainer, make_dataset, loss_and_metrics, views: int,
                   class_weights: np.ndarray | None, part_recipe) -> tuple[Any, str]:
    """Cache `cut.below` on the training (`views` views) and validation splits, train `cut.above` on the cache
    through the Trainer as part `part` of the run's model; (trained result, a note of what was cached)."""
    needed = cache_bytes(cut, len(splits.train), len(splits.val), views)
    folder = _cache_folder(trainer, needed, recipe.feature_cache_mb)
    began = time.perf_counter()
    try:
        encode = encoders(cut)
        train = compute_cache(cut, make_dataset(splits.train, False), len(splits.train), views, folder, f"{part}_train",
                              class_weights, encode)
        val = compute_cache(cut, make_dataset(splits.val, False), len(splits.val), 1, folder, f"{part}_val", class_weights,
                            encode)
        seconds = time.perf_counter() - began
        size = int(np.prod(train.features.shape[2:]))
        note = (f"{cut.where} cached once: {plural(len(splits.train), 'training image')} x {plural(views, 'view')} and "
                f"{len(splits.val)} validation, {size:,} floats each, {needed / 2**20:,.1f} MB "
                f"{'in memory' if folder is None else 'memory-mapped on disk'}, in {seconds:.1f} s")
        if trainer.progress:
            print(f"[{part}] {note}", file=sys.stderr, flush=True)
        loss, metrics = loss_and_metrics()
        steps = math.ceil(len(splits.train) / recipe.batch_size)
        trained, result = trainer(cut.above, train.dataset(recipe.batch_size, True, recipe.seed),
                                  val.dataset(recipe.batch_size, False, recipe.seed), loss, metrics, part_recipe, part,
                                  steps, part_of_model=True)
        if trained is not cut.above:  # resumed: the part was loaded from its checkpoint
            cut.above.set_weights(trained.get_weights())
        return result, note
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def train_transfer(model, splits, recipe, trainer, make_dataset: Callable, loss_and_metrics: Callable) -> tuple[Any, dict]:
    """ImageSolution.extend_model for a transfer recipe: (model, training notes).

    The notes name the backbone and the weights file with its sha256 (so the run's manifest records them);
    with the feature cache (backbones.uses_feature_cache), the model is trained here, in parts (module doc).
    `make_dataset(split, training)` and `loss_and_metrics()` are the solution's.
    """
    if recipe.model != "transfer":
        return model, {}
    name, how = resolve_backbone(recipe.backbone, recipe.weights)
    notes: dict[str, Any] = {} if recipe.weights and Path(recipe.weights).is_dir() else {"backbone": f"{name} ({how})"}
    notes.update(weights_fingerprint(recipe.weights))
    if not uses_feature_cache(recipe):
        return model, notes
    class_weights = None
    if recipe.class_weight == "balanced":
        from solutions.core.training import balanced_class_weight

        n_classes = int(model.output_shape[-1])
        weights = balanced_class_weight(np.asarray(splits.train.y), n_classes)
        class_weights = np.asarray([weights[c] for c in range(n_classes)], np.float32)
    augments = _augment_output(model) is not None
    views = 1 + recipe.feature_cache_views if augments else 1
    fine_tune = recipe.fine_tune_blocks != 0 and recipe.epochs > recipe.freeze_epochs
    head_recipe = dataclasses.replace(recipe, epochs=recipe.freeze_epochs,
                                      early_stopping_patience=0 if fine_tune else recipe.early_stopping_patience)
    set_backbone_trainable(model, False)
    _, notes["frozen_backbone"] = train_on_cache(head_cut(model), "frozen_backbone", splits, recipe, trainer, make_dataset,
                                                 loss_and_metrics, views, class_weights, head_recipe)
    if not fine_tune:
        return model, notes
    tune_recipe = dataclasses.replace(recipe, epochs=recipe.epochs - recipe.freeze_epochs, freeze_epochs=0,
                                      learning_rate=recipe.fine_tune_learning_rate)
    set_backbone_trainable(model, True, recipe.fine_tune_blocks)
    blocks = [block for block, _ in top_blocks(model.get_layer("backbone"), recipe.fine_tune_blocks)]
    unfrozen = f"{plural(len(blocks), 'top block')} ({', '.join(blocks) if len(blocks) <= 4 else blocks[0] + ' ... ' + blocks[-1]})"
    cut = block_cut(model, recipe.fine_tune_blocks)
    if cut is None:
        loss, metrics = loss_and_metrics()
        train_data, val_data = make_dataset(splits.train, True), make_dataset(splits.val, False)
        if class_weights is not None:
            import tensorflow as tf

            table = tf.constant(class_weights)
            train_data = train_data.map(lambda x, y: (x, y, tf.gather(table, tf.argmax(y, axis=1))))
        trained, _ = trainer(model, train_data, val_data, loss, metrics, tune_recipe, "fine_tune",
                             math.ceil(len(splits.train) / recipe.batch_size), part_of_model=True)
        if trained is not model:  # resumed: loaded from the part's checkpoint
            model.set_weights(trained.get_weights())
        notes["fine_tune"] = f"all {len(blocks)} blocks ({blocks[0]} ... {blocks[-1]}) through the whole network, on pixels"
        return model, notes
    _, note = train_on_cache(cut, "fine_tune", splits, recipe, trainer, make_dataset, loss_and_metrics, views,
                             class_weights, tune_recipe)
    notes["fine_tune"] = f"{unfrozen} on {note}"
    return model, notes
