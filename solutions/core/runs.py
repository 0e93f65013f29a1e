"""Run directories: the one place that writes files, always atomically.

Every file is written under a temporary name in its final folder and renamed
into place, so an interrupted run never leaves a half-written artifact.

    runs/<solution>/<name>/
        model.keras  recipe.yaml  schema.json  manifest.json  history.csv
        metrics.json  report.json  report.md  report.html  figures/
        predictions.csv  checkpoints/  export/
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from solutions.core.errors import UsageError

MODEL_FILE = "model.keras"
DECISION_FILE = "decision.json"
RUN_MARKER = "manifest.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else _default_file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _default_file_mode() -> int:
    """0o666 less the process umask: the mode open() would give a new file (mkstemp gives 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); rename it into place on success.

    Works for files and folders (a SavedModel, a figures folder). On failure the
    temporary is removed and an existing `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    _remove(tmp)
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def next_run_dir(solution: str, root: Path = Path("runs"), stem: str = "run") -> Path:
    """The first free `root/<solution>/<stem>N` (run1, run2, ...)."""
    base = Path(root) / solution
    n = 1
    while (base / f"{stem}{n}").exists():
        n += 1
    return base / f"{stem}{n}"


def check_run_dir(path: Path) -> Path:
    """Return `path` if it is a finished run directory, else raise UsageError."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"Run directory not found: {path}. Pass the folder that `ksol train` wrote (it prints its path).")
    if not (path / RUN_MARKER).is_file() or not (path / MODEL_FILE).is_file():
        raise UsageError(
            f"{path} is not a run directory: it has no {RUN_MARKER} and {MODEL_FILE}. "
            "Pass the folder that `ksol train` wrote, for example runs/image_classification/run1."
        )
    return path


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON ({error}). The run directory may be damaged.") from None


def environment() -> dict[str, str]:
    """Versions of Python and the libraries a run depends on."""
    from importlib import metadata

    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in ("keras-solutions", "keras", "tensorflow", "numpy", "scikit-learn", "pandas", "opencv-python-headless"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def fingerprint_path(path: Path) -> str:
    """SHA-256 over a file's bytes, or over every file's relative path and bytes in a folder."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def fingerprint_arrays(*arrays: Any) -> str:
    """SHA-256 over numpy arrays (for generated data)."""
    import numpy as np

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str(array.shape).encode() + str(array.dtype).encode())
        digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
    return digest.hexdigest()


def run_manifest(*, solution: str, recipe: dict[str, Any], seed: int, data: dict[str, Any], training: dict[str, Any] | None,
                 timings: dict[str, float], command: list[str]) -> dict[str, Any]:
    """The manifest.json value of a run: what ran, on which data, how long it took, and in which environment."""
    import time

    return {"solution": solution, "recipe": recipe, "seed": seed, "data": data, "training": training, "timings": timings,
            "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "environment": environment()}


def write_run_files(run_dir: Path, *, model, recipe: dict[str, Any], schema: dict[str, Any], decision: dict[str, Any] | None,
                    history: list[dict[str, Any]] | None, manifest: dict[str, Any]) -> None:
    """A trained run's files, each written atomically: model.keras, recipe.yaml, schema.json, decision.json
    (when the solution has a decision), history.csv and manifest.json (last)."""
    from solutions.core.config import write_recipe_file

    with atomic_path(run_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    write_recipe_file(run_dir / "recipe.yaml", recipe)
    atomic_write_json(run_dir / "schema.json", schema)
    if decision is not None:
        atomic_write_json(run_dir / DECISION_FILE, decision)
    if history is not None:
        import pandas as pd

        atomic_write_text(run_dir / "history.csv", pd.DataFrame(history).to_csv(index=False))
    atomic_write_json(run_dir / "manifest.json", manifest)


@dataclass(frozen=True)
class RunFiles:
    """What a run directory holds besides the model: its manifest, recipe values, schema and decision."""

    run_dir: Path
    manifest: dict[str, Any]
    recipe: dict[str, Any]
    schema: dict[str, Any]
    decision: dict[str, Any] | None


def read_run_files(run_dir: Path) -> RunFiles:
    """The JSON and YAML files of a run directory (checked to be one first)."""
    from solutions.core.config import read_saved_recipe

    run_dir = check_run_dir(Path(run_dir))
    decision = run_dir / DECISION_FILE
    return RunFiles(run_dir, read_json(run_dir / "manifest.json"), read_saved_recipe(run_dir / "recipe.yaml"),
                    read_json(run_dir / "schema.json"), read_json(decision) if decision.is_file() else None)
