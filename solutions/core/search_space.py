"""Search spaces: the ranges and choices `ksol tune` explores, declared next to a recipe's fields.

A recipe class names its default space in `SEARCH_SPACE`, a mapping of recipe key to
`FloatRange`, `IntRange` or `Choice`. A YAML file can replace it, or narrow it with
`extend: true` (its keys replace those of the default, the others stay):

    learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
    hidden_units: [[64, 32], [128, 64]]      # a list is a choice
    dropout: {low: 0.0, high: 0.4}
    epochs: 20                               # a single value fixes the key for every trial
    extend: true

Every entry is checked against the recipe like `--set`: an unknown key, a range with low
above high, or a value the recipe rejects (at either end of a range, or any choice) is a
ConfigError naming the key. This module knows no optimiser; `solutions/batch/tune.py`
turns a space into Optuna suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from solutions.core.config import Recipe, check_keys, make_recipe, read_recipe_file, recipe_fields
from solutions.core.errors import ConfigError

SPACE_OPTIONS = ("extend",)


@dataclass(frozen=True)
class FloatRange:
    """A real value drawn from [low, high], on a log scale with `log` (learning rates, weight decay)."""

    low: float
    high: float
    log: bool = False

    def describe(self) -> str:
        return f"{self.low:g} to {self.high:g}{' (log)' if self.log else ''}"


@dataclass(frozen=True)
class IntRange:
    """An integer drawn from low, low + step, ..., high."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def describe(self) -> str:
        return f"{self.low} to {self.high}" + (f" by {self.step}" if self.step != 1 else "") + (" (log)" if self.log else "")


@dataclass(frozen=True)
class Choice:
    """One of a few values (strings, numbers, booleans, or tuples such as layer widths)."""

    options: tuple[Any, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(_shown(o) for o in self.options)


Dimension = Union[FloatRange, IntRange, Choice]


def default_space(recipe_class: type[Recipe]) -> dict[str, Dimension]:
    """The recipe class's own search space (its `SEARCH_SPACE`), checked."""
    space = dict(getattr(recipe_class, "SEARCH_SPACE", {}) or {})
    if not space:
        raise ConfigError(f"{recipe_class.__name__} declares no search space. Pass --space FILE naming the keys to tune.")
    check_space(recipe_class, space, f"{recipe_class.__name__}.SEARCH_SPACE")
    return space


def read_space(recipe_class: type[Recipe], path: str | Path) -> tuple[dict[str, Dimension], dict[str, Any]]:
    """The space of a YAML file (see the module docstring) and the keys it fixes, checked against the recipe."""
    if not Path(path).is_file():
        raise ConfigError(f"Search space file not found: {path}. Pass --space with an existing YAML file of "
                          "key: {low: ..., high: ...} or key: [choices], or leave --space out for the recipe's own space.")
    values = read_recipe_file(Path(path))
    extend = values.pop("extend", False)
    if not isinstance(extend, bool):
        raise ConfigError(f"`extend` in the search space {path} must be true or false. Received: extend={extend!r}.")
    check_keys(recipe_class, values, f"the search space {path}")
    space: dict[str, Dimension] = dict(getattr(recipe_class, "SEARCH_SPACE", {}) or {}) if extend else {}
    fixed: dict[str, Any] = {}
    for key, spec in values.items():
        dimension = parse_dimension(key, spec, str(path))
        if dimension is None:
            space.pop(key, None)
            fixed[key] = spec
        else:
            space[key] = dimension
    if not space:
        raise ConfigError(f"The search space {path} leaves nothing to tune: give at least one key a range "
                          "({low: ..., high: ...}) or a list of choices.")
    check_space(recipe_class, space, f"the search space {path}", fixed)
    return space, fixed


def parse_dimension(key: str, spec: Any, where: str) -> Dimension | None:
    """A range from {low, high[, log, step]}, a choice from a list (or {choices: [...]}); None for a fixed value."""
    if isinstance(spec, list):
        return _choice(key, spec, where)
    if not isinstance(spec, dict):
        return None
    unknown = set(spec) - {"low", "high", "log", "step", "choices"}
    if unknown:
        raise ConfigError(f"`{key}` in {where} has unknown field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}. "
                          "A range is {low: ..., high: ..., log: true|false, step: ...}; a choice is a list.")
    if "choices" in spec:
        return _choice(key, spec["choices"], where)
    if "low" not in spec or "high" not in spec:
        raise ConfigError(f"`{key}` in {where} needs both `low` and `high`. Received: {spec!r}.")
    low, high, log = spec["low"], spec["high"], spec.get("log", False)
    for name, number in (("low", low), ("high", high)):
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ConfigError(f"`{key}` in {where}: {name} must be a number. Received: {name}={number!r}.")
    if not isinstance(log, bool):
        raise ConfigError(f"`{key}` in {where}: log must be true or false. Received: log={log!r}.")
    if low > high:
        raise ConfigError(f"`{key}` in {where}: low is above high (low={low!r}, high={high!r}). Swap them.")
    if log and low <= 0:
        raise ConfigError(f"`{key}` in {where}: a log range needs low > 0. Received: low={low!r}.")
    if isinstance(low, int) and isinstance(high, int) and not isinstance(spec.get("step", 1), float):
        step = spec.get("step", 1)
        if not isinstance(step, int) or step < 1:
            raise ConfigError(f"`{key}` in {where}: step must be an integer >= 1. Received: step={step!r}.")
        return IntRange(low, high, step, log)
    return FloatRange(float(low), float(high), log)


def check_space(recipe_class: type[Recipe], space: dict[str, Dimension], where: str,
                fixed: dict[str, Any] | None = None) -> None:
    """Raise ConfigError when a key is unknown or a value of the space is one the recipe rejects."""
    check_keys(recipe_class, {**space, **(fixed or {})}, where)
    fields = recipe_fields(recipe_class)
    for key, dimension in space.items():
        if isinstance(dimension, (FloatRange, IntRange)) and dimension.low > dimension.high:
            raise ConfigError(f"`{key}` in {where}: low is above high (low={dimension.low!r}, high={dimension.high!r}).")
        if isinstance(dimension, IntRange) and fields[key] is not int:
            raise ConfigError(f"`{key}` in {where} is not an integer key; give it a float range or a list of choices.")
        for value in edge_values(dimension):
            try:
                make_recipe(recipe_class, "default", **{**(fixed or {}), key: value})
            except ConfigError as error:
                raise ConfigError(f"`{key}` in {where}: the value {_shown(value)} ({dimension.describe()}) is one the "
                                  f"recipe rejects: {error}") from None
    if fixed:
        try:
            make_recipe(recipe_class, "default", **fixed)
        except ConfigError as error:
            raise ConfigError(f"A fixed value in {where} is one the recipe rejects: {error}") from None


def edge_values(dimension: Dimension) -> tuple[Any, ...]:
    """The values that must all be valid for the whole dimension to be: both ends of a range, every choice."""
    if isinstance(dimension, Choice):
        return dimension.options
    return (dimension.low, dimension.high)


def describe_space(space: dict[str, Dimension]) -> dict[str, str]:
    """Each key's dimension in words, for reports."""
    return {key: dimension.describe() for key, dimension in space.items()}


def _choice(key: str, options: Any, where: str) -> Choice:
    if not isinstance(options, list) or not options:
        raise ConfigError(f"`{key}` in {where}: choices must be a non-empty list. Received: {options!r}.")
    return Choice(tuple(tuple(o) if isinstance(o, list) else o for o in options))


def _shown(value: Any) -> str:
    return "[" + ", ".join(str(v) for v in value) + "]" if isinstance(value, tuple) else repr(value)
