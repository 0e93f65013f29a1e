"""Recipes: frozen dataclasses with named presets, YAML files and `key=value` overrides.

A recipe is the complete, typed description of how a solution trains. Every
value that reaches it (a preset, a YAML file, a `--set key=value`) is checked
against the dataclass: unknown keys are errors that suggest the closest known
key, and values are coerced to the field's type or rejected.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from solutions.core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Recipe:
    """Training settings every solution shares. Domains subclass and add fields.

    `PRESETS` maps a preset name to the field values that differ from the
    dataclass defaults; `default` is the dataclass itself.

    monitor: the validation figure that early stopping watches and whose best
      epoch's weights are kept: "val_loss", or "val_" and the name of a metric
      the solution logs (val_auc, val_auprc, val_accuracy, ...). Losses are
      better lower, every other figure higher.
    tensorboard: write TensorBoard logs of every epoch to `logs/` in the run
      directory (`tensorboard --logdir runs/...`); false writes none.
    tracking: "mlflow" records the run in MLflow (core/tracking.py: the recipe as
      parameters, each epoch's figures, the test metrics with their intervals, the
      model and report as artifacts); "none" does not. `ksol train --track` overrides it.
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"quick": {}, "default": {}, "accurate": {}}

    seed: int = 0
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: Literal["constant", "cosine", "one_cycle"] = "one_cycle"
    weight_decay: float = 1e-4
    early_stopping_patience: int = 10
    monitor: str = "val_loss"
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    class_weight: Literal["none", "balanced"] = "none"
    distribution: Literal["none", "mirrored", "multi_worker"] = "none"
    tensorboard: bool = True
    tracking: Literal["none", "mlflow"] = "none"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ConfigError for values outside their allowed range."""
        require_value(self.epochs >= 1, "epochs", "an integer >= 1", self.epochs)
        require_value(self.batch_size >= 1, "batch_size", "an integer >= 1", self.batch_size)
        require_value(self.learning_rate > 0, "learning_rate", "a number > 0", self.learning_rate)
        require_value(self.weight_decay >= 0, "weight_decay", "a number >= 0", self.weight_decay)
        require_value(
            self.early_stopping_patience >= 0,
            "early_stopping_patience",
            "an integer >= 0 (0 turns early stopping off)",
            self.early_stopping_patience,
        )
        require_value(self.monitor.startswith("val_") and len(self.monitor) > 4, "monitor",
                      'a validation figure: "val_loss" or "val_" and a logged metric name, such as val_auc', self.monitor)
        for name in ("validation_fraction", "test_fraction"):
            value = getattr(self, name)
            require_value(0 < value < 0.5, name, "a fraction between 0 and 0.5", value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def require_value(ok: bool, name: str, allowed: str, received: Any) -> None:
    if not ok:
        raise ConfigError(f"Recipe key `{name}` must be {allowed}. Received: {name}={received!r}.")


def recipe_fields(recipe_class: type[Recipe]) -> dict[str, Any]:
    """Map each field of a recipe class to its resolved type annotation."""
    hints = typing.get_type_hints(recipe_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(recipe_class)}


def coerce_value(key: str, value: Any, annotation: Any) -> Any:
    """Convert `value` to the recipe field type `annotation`, or raise ConfigError.

    >>> coerce_value("epochs", "3", int)
    3
    """
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(
                f"Recipe key `{key}` must be one of {choices}. Received: {key}={value!r}."
                + did_you_mean(value, args)
            )
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if isinstance(value, str) and value.lower() in ("none", "null") and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        errors = []
        for other in others:
            try:
                return coerce_value(key, value, other)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"Recipe key `{key}`: received {value!r}, which is none of the allowed types.")
    if origin is tuple:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"Recipe key `{key}` must be a list. Received: {key}={value!r}.")
        item_type = args[0] if args else Any
        return tuple(coerce_value(key, item, item_type) for item in value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"Recipe key `{key}` must be true or false. Received: {key}={value!r}.")
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"Recipe key `{key}` must be an integer. Received: {key}={value!r}.")
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"Recipe key `{key}` must be an integer. Received: {key}={value!r}.") from None
        if not number.is_integer():
            raise ConfigError(f"Recipe key `{key}` must be an integer. Received: {key}={value!r}.")
        return int(number)
    if annotation is float:
        if isinstance(value, bool):
            raise ConfigError(f"Recipe key `{key}` must be a number. Received: {key}={value!r}.")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Recipe key `{key}` must be a number. Received: {key}={value!r}.") from None
    if annotation is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"Recipe key `{key}` must be a string. Received: {key}={value!r}.")
        return str(value)
    return value


def check_keys(recipe_class: type[Recipe], values: dict[str, Any], where: str) -> None:
    """Raise ConfigError listing every unknown key in `values`, each with a suggestion."""
    known = recipe_fields(recipe_class)
    unknown = [key for key in values if key not in known]
    if unknown:
        lines = [f'"{key}"' + did_you_mean(key, known) for key in unknown]
        raise ConfigError(
            f"Unknown recipe key{'s' if len(unknown) > 1 else ''} in {where}: {'; '.join(lines)} "
            f"Known keys: {', '.join(sorted(known))}."
        )


def make_recipe(recipe_class: type[Recipe], preset: str = "default", **values: Any) -> Recipe:
    """Build a recipe from a named preset plus explicit values, all checked.

    >>> make_recipe(Recipe, "default", epochs=2).epochs
    2
    """
    presets = recipe_class.PRESETS
    if preset not in presets:
        raise ConfigError(
            f"Unknown preset {preset!r} for {recipe_class.__name__}. "
            f"Known presets: {', '.join(presets)}." + did_you_mean(preset, presets)
        )
    merged = {**presets[preset], **values}
    check_keys(recipe_class, merged, f"preset {preset!r}" if not values else "the recipe")
    fields = recipe_fields(recipe_class)
    coerced = {key: coerce_value(key, value, fields[key]) for key, value in merged.items()}
    return recipe_class(**coerced)


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Parse `key=value` strings; values are read as YAML scalars (`3`, `0.1`, `true`, `[32, 32]`).

    >>> parse_overrides(["epochs=3", "model=resnet"])
    {'epochs': 3, 'model': 'resnet'}
    """
    import yaml

    result: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"An override must look like key=value. Received: {pair!r}. Example: --set epochs=5")
        try:
            result[key] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            result[key] = raw
    return result


def load_recipe(
    recipe_class: type[Recipe],
    spec: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
) -> Recipe:
    """Resolve a recipe from a preset name or a YAML file, then apply overrides.

    A YAML file may name a `preset:` to start from; its other keys override it.
    """
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    overrides = dict(overrides or {})
    spec = "default" if spec is None else str(spec)
    preset, file_values = spec, {}
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        file_values = read_recipe_file(Path(spec))
        preset = str(file_values.pop("preset", "default"))
        check_keys(recipe_class, file_values, f"recipe file {spec}")
    if overrides:
        check_keys(recipe_class, overrides, "--set overrides")
    return make_recipe(recipe_class, preset, **{**file_values, **overrides})


def read_recipe_file(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ConfigError(f"Recipe file not found: {path}. Pass a preset name (quick, default, accurate) or an existing YAML file.")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Recipe file {path} is not valid YAML: {error}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"Recipe file {path} must hold a mapping of key: value. Received a {type(values).__name__}.")
    return values


def recipe_differences(a: Recipe, b: Recipe) -> dict[str, tuple[Any, Any]]:
    """Fields whose values differ between two recipes of the same class."""
    da, db = a.to_dict(), b.to_dict()
    return {key: (da[key], db.get(key)) for key in da if da[key] != db.get(key)}


def read_saved_recipe(path: Path) -> dict[str, Any]:
    """The values of a run's recipe.yaml, lists as tuples (as recipe dataclasses hold them)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in read_recipe_file(path).items()}


def write_recipe_file(path: Path, values: dict[str, Any]) -> None:
    """Write a resolved recipe as YAML (atomically, through core.runs)."""
    import yaml

    from solutions.core.runs import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(values, sort_keys=False))
