"""Resolve what a user passes as `--data`: a dataset config name, a YAML file, or a path.

Dataset configs are YAML files in `datasets/` (one per dataset): where the data
is, its format and column names, its official source, or the generator of a
bundled sample. Relative paths in a config are relative to the config's folder.
Archives (.tar.gz, .tgz, .zip) are unpacked once into a cache folder keyed by
the archive's size and modification time.
"""

from __future__ import annotations

import inspect
import os
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from solutions.core.errors import ConfigError, DataError, did_you_mean

CONFIG_KEYS = (
    "name", "solution", "description", "path", "format", "generator", "source", "citation",
    "license", "label", "text", "id", "time", "positive", "class_names", "options",
)
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


@dataclass(frozen=True)
class DataSource:
    """Where data comes from: a path, a dataset config, or both."""

    spec: str
    name: str
    path: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def generator(self) -> dict[str, Any] | None:
        return self.config.get("generator")


def repository_datasets_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "datasets"


def dataset_dirs() -> list[Path]:
    """Folders searched for dataset configs: ./datasets, then the checkout's datasets/."""
    dirs = [Path.cwd() / "datasets", repository_datasets_dir()]
    unique = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def known_datasets() -> dict[str, Path]:
    """Dataset config name -> YAML path."""
    found: dict[str, Path] = {}
    for folder in dataset_dirs():
        for path in sorted(folder.glob("*.y*ml")):
            found.setdefault(path.stem, path)
    return found


def read_dataset_config(path: Path) -> dict[str, Any]:
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Dataset config {path} is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"Dataset config {path} must be a mapping of key: value. Received a {type(config).__name__}.")
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if unknown:
        hints = "; ".join(f'"{k}"' + did_you_mean(k, CONFIG_KEYS) for k in unknown)
        raise ConfigError(f"Unknown key in dataset config {path}: {hints} Known keys: {', '.join(CONFIG_KEYS)}. "
                          "If this YAML describes data in another tool's format (a YOLO data YAML, say), pass the "
                          "folder that holds it, or a dataset config whose `path` names it.")
    return config


def resolve_data(spec: str | os.PathLike, **options: Any) -> DataSource:
    """Turn `--data` into a DataSource, or raise DataError naming what was looked for.

    `options` (label, text, id, time, positive, ...) that are not None override
    the config's keys, as the command line's --label and friends do.

    >>> resolve_data("shapes").generator["name"]
    'shapes'
    """
    text = str(spec)
    known = known_datasets()
    config_path = None
    if text in known:
        config_path = known[text]
    elif text.endswith((".yaml", ".yml")):
        config_path = Path(text)
        if not config_path.is_file():
            raise DataError(f"Dataset config not found: {text}.")
    if config_path is not None:
        config = read_dataset_config(config_path)
        path = None
        if config.get("path"):
            path = (config_path.parent / str(config["path"])).resolve()
            if not path.exists():
                source = config.get("source", {})
                hint = f" Its official source: {source.get('url')}." if isinstance(source, dict) and source.get("url") else ""
                raise DataError(f"Dataset {config_path.stem!r} points at {path}, which does not exist.{hint}")
        elif not config.get("generator"):
            raise ConfigError(f"Dataset config {config_path} needs a `path` or a `generator`.")
        config.update({k: v for k, v in options.items() if v is not None})
        return DataSource(spec=text, name=str(config.get("name", config_path.stem)), path=path, config=config)
    path = Path(text)
    if not path.exists():
        names = ", ".join(sorted(known)) or "none"
        raise DataError(
            f"Data not found: {text!r} is neither an existing file or folder nor a known dataset config "
            f"(known: {names}).{did_you_mean(text, known)}"
        )
    return DataSource(spec=text, name=path.stem if path.name else text, path=path,
                      config={k: v for k, v in options.items() if v is not None})


def unpack_archive(path: Path) -> Path:
    """Return a folder with the archive's contents, unpacking it once into the user cache."""
    path = Path(path)
    stat = path.stat()
    cache = Path(os.environ.get("KSOL_CACHE", Path.home() / ".cache" / "keras-solutions"))
    target = cache / "unpacked" / f"{path.name}-{stat.st_size}-{int(stat.st_mtime)}"
    if (target / ".complete").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)
        else:
            with tarfile.open(path) as archive:
                archive.extractall(target, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataError(f"Could not unpack the archive {path}: {error}. Check that the file is complete.") from None
    (target / ".complete").write_text("ok")
    return target


def run_generator(function: Callable[..., Any], generator: dict[str, Any]) -> Any:
    """Call a sample-data generator with the options of a dataset config's `generator:` block (all keys but name).

    An option the generator does not take is a DataError naming it and the options it takes.

    >>> def make(n: int = 2, seed: int = 0): return [seed] * n
    >>> run_generator(make, {"name": "demo", "n": 3})
    [0, 0, 0]
    >>> run_generator(make, {"name": "demo", "rows": 3})
    Traceback (most recent call last):
    ...
    solutions.core.errors.DataError: Generator 'demo' has no option 'rows'; its options are n, seed. Rename or remove it in the dataset config.
    """
    options = {k: v for k, v in generator.items() if k != "name"}
    accepted = list(inspect.signature(function).parameters)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise DataError(f"Generator {generator.get('name')!r} has no option {listed}; its options are "
                        f"{', '.join(accepted)}. Rename or remove it in the dataset config.")
    return function(**options)


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)
