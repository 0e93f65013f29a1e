"""Run directories: the one place that writes files, always atomically.

Every file is written under a temporary name in its final folder and renamed
into place, so an interrupted run never leaves a half-written artifact.

    runs/<solution>/<name>/
        model.keras  recipe.yaml  schema.json  manifest.json  history.csv
        metrics.json  report.json  report.md  report.html  figures/
        predictions.csv  checkpoints/  export/
        .lock            while a process writes it (run_lock: one writer per folder)

A full disk (ENOSPC, EDQUOT) while writing is a DiskFullError naming the folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from solutions.core.errors import DiskFullError, FolderInUseError, SolutionsError, UsageError

MODEL_FILE = "model.keras"
DECISION_FILE = "decision.json"
RUN_MARKER = "manifest.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    A full disk raises DiskFullError naming the folder; `path` keeps its previous content."""
    path = Path(path)
    with full_disk_as_error(path):
        _write_through_temporary(path, data)


def _write_through_temporary(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named like atomic_path's temporaries (.tmp-<pid>-...), so a sweep can remove those of killed processes.
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-{path.name}.", suffix=".tmp", dir=path.parent)
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
    temporary is removed and an existing `path` is left as it was; a full disk raises DiskFullError.
    """
    path = Path(path)
    with full_disk_as_error(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    old, moved_aside = path.with_name(f".{path.name}.old-{os.getpid()}"), False
    _remove(tmp)
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            os.replace(path, old)
            moved_aside = True
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException as error:
        _remove(tmp)
        if moved_aside and not path.exists():  # the folder went aside but its replacement never arrived
            os.replace(old, path)
        if is_disk_full(error):
            raise disk_full_error(path, error) from None
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# ------------------------------------------------------------------ a full disk
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def is_disk_full(error: BaseException) -> bool:
    """True for an OSError saying the disk is full or the quota is spent (ENOSPC, EDQUOT), also when a library
    (h5py, TensorFlow) passes it on as its own exception with the system's message."""
    if isinstance(error, SolutionsError) or not isinstance(error, Exception):
        return False
    if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
        return True
    text = str(error)
    return "No space left on device" in text or "Disk quota exceeded" in text


def disk_full_error(path: Path, error: BaseException) -> DiskFullError:
    """The DiskFullError for `path` that could not be written because of `error`."""
    path = Path(path)
    quota = getattr(error, "errno", None) == getattr(errno, "EDQUOT", None) or "quota" in str(error).lower()
    return DiskFullError(
        f"The disk holding {path.parent} is {'over its quota' if quota else 'full'}: {path.name} could not be written "
        "there. Files written earlier are intact and no half-written file was left under its name. Free space "
        "on that disk, or pass --out on another disk, and run the command again (an interrupted `ksol train` "
        "continues with --resume)."
    )


@contextlib.contextmanager
def full_disk_as_error(path: Path) -> Iterator[None]:
    """Turn a full disk (or spent quota) while writing `path` into a DiskFullError that names its folder."""
    try:
        yield
    except Exception as error:
        if is_disk_full(error):
            raise disk_full_error(path, error) from None
        raise


# ------------------------------------------------------------------ run-directory locks
LOCK_FILE = ".lock"
STALE_UNREADABLE_LOCK_SECONDS = 10.0  # a lock file with no JSON yet is being written; older than this it is debris

_locks_of_this_thread = threading.local()  # folder -> depth: run_lock is re-entrant within one thread
_tokens_of_this_process: set[str] = set()  # tokens of the locks this process holds (in any thread)


@contextlib.contextmanager
def run_lock(folder: Path, what: str = "Run directory", fix: str = "pass another --out") -> Iterator[Path]:
    """Hold `folder`/.lock while writing `folder`, so that two processes never write one folder at once.

    The lock file holds the owner's pid, host, command and start time as JSON; it is created atomically
    (O_CREAT | O_EXCL) and removed on exit, also on an exception. A lock whose owner is gone (its pid is not
    alive on this host) is broken and taken over; a live one raises FolderInUseError saying who holds it
    and how to go on. `folder` (and missing parents) are created, and removed again on exit if they are
    still empty then. Re-entrant within one thread; only the chief of a multi-worker run takes it (every
    worker writes the same run directory). On a filesystem shared by several machines the lock is
    advisory: a pid is only checked on the machine that holds it.
    """
    folder = Path(folder)
    held = _held_locks()
    key = os.path.abspath(folder)
    if key in held or not _is_chief():
        held[key] = held.get(key, 0) + 1
        try:
            yield folder / LOCK_FILE
        finally:
            held[key] -= 1
            if not held[key]:
                del held[key]
        return
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder} is a file; pass a folder.")
    missing = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    lock = folder / LOCK_FILE
    with full_disk_as_error(lock):
        folder.mkdir(parents=True, exist_ok=True)
        token = _take_lock(lock, what, fix)
    held[key] = 1
    try:
        yield lock
    finally:
        del held[key]
        _release_lock(lock, token)
        for created in missing:
            try:
                created.rmdir()  # only while empty: what the run wrote stays
            except OSError:
                break


def _held_locks() -> dict[str, int]:
    if not hasattr(_locks_of_this_thread, "held"):
        _locks_of_this_thread.held = {}
    return _locks_of_this_thread.held


def _is_chief() -> bool:
    from solutions.core.distribution import is_chief

    try:
        return is_chief()
    except (ValueError, TypeError, AttributeError):  # a malformed TF_CONFIG is reported by make_strategy
        return True


def _take_lock(lock: Path, what: str, fix: str) -> str:
    """Create `lock` holding this process's JSON, breaking a lock whose owner is gone; return its token."""
    import socket
    import time
    import uuid

    owner = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid()),
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "started_unix": time.time(),
             "command": " ".join(["ksol", *sys.argv[1:]])[:300],
             "token": uuid.uuid4().hex}
    data = (json.dumps(owner) + "\n").encode("utf-8")
    holder: dict[str, Any] = {}
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder, seen, alive = _lock_holder(lock)
            if alive:
                raise FolderInUseError(_in_use_message(lock, holder, what, fix)) from None
            if seen is not None and not _break_lock(lock, seen):
                holder = _lock_holder(lock)[0]
                raise FolderInUseError(_in_use_message(lock, holder, what, fix)) from None
            continue  # the owner is gone (or just let go): try again
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
            raise
        _tokens_of_this_process.add(owner["token"])
        return owner["token"]
    raise FolderInUseError(_in_use_message(lock, holder, what, fix))


def _lock_holder(lock: Path) -> tuple[dict[str, Any], tuple[int, int] | None, bool]:
    """(the lock's JSON, its (device, inode) or None if it is gone, whether its owner may still be running)."""
    import socket
    import time

    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return {}, None, False
    with os.fdopen(fd, "rb") as handle:
        stat = os.fstat(handle.fileno())
        raw = handle.read(1 << 16)
    seen = (stat.st_dev, stat.st_ino)
    try:
        holder = json.loads(raw.decode("utf-8"))
        pid = int(holder["pid"])
    except (ValueError, KeyError, TypeError):  # no JSON yet: being written, unless it has been like that for long
        return {}, seen, time.time() - stat.st_mtime < STALE_UNREADABLE_LOCK_SECONDS
    if holder.get("host") not in (None, socket.gethostname()):
        return holder, seen, True  # another machine's process: nothing here can tell whether it still runs
    if pid == os.getpid():  # this process holds it in another thread, or an earlier process had this pid
        return holder, seen, holder.get("token") in _tokens_of_this_process
    return holder, seen, _pid_alive(pid, holder.get("process_start"))


def _pid_alive(pid: int, process_start: int | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    except OSError:
        return True
    now = _process_start(pid)
    return process_start is None or now is None or now == process_start  # else the pid was reused


def this_process() -> dict[str, Any]:
    """This process's pid, host and start time: what a record of work in progress (a lock, a tuning trial) keeps
    so that another process can tell later whether its owner is gone (`owner_gone`)."""
    import socket

    return {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid())}


def owner_gone(owner: dict[str, Any]) -> bool:
    """True when the process `owner` (from `this_process`) ran on this host and is no longer alive.
    An owner on another host cannot be checked from here: False."""
    import socket

    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    return not _pid_alive(owner["pid"], owner.get("process_start"))


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), to tell a reused pid; None elsewhere."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        return int(text.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _break_lock(lock: Path, seen: tuple[int, int]) -> bool:
    """Remove the stale lock `seen` (device, inode); False if another process took the lock meanwhile."""
    import uuid

    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:  # another process broke it first
        return True
    stat = os.stat(aside)
    if (stat.st_dev, stat.st_ino) != seen:  # a fresh lock replaced the stale one: give it back
        with contextlib.suppress(OSError):
            os.link(aside, lock)
        os.unlink(aside)
        return False
    os.unlink(aside)
    return True


def _release_lock(lock: Path, token: str) -> None:
    _tokens_of_this_process.discard(token)
    try:
        if json.loads(lock.read_text(encoding="utf-8")).get("token") == token:
            lock.unlink()
    except (OSError, ValueError):  # gone already, or not ours any more
        pass


def _in_use_message(lock: Path, holder: dict[str, Any], what: str, fix: str) -> str:
    import socket
    import time

    folder = lock.parent
    if not holder:
        return (f"{what} {folder} is in use: another ksol process is taking its lock right now. Wait for it to "
                f"finish, or {fix}. If no other ksol is running, delete {lock} and try again.")
    host = holder.get("host")
    on = "" if host in (None, socket.gethostname()) else f" on {host}"
    since = holder.get("started", "an unknown time")
    if isinstance(holder.get("started_unix"), (int, float)):
        since += f", {max(0, int(time.time() - holder['started_unix']))} s ago"
    return (f"{what} {folder} is in use by another ksol process (pid {holder.get('pid')}{on}, "
            f"`{holder.get('command', '?')}`, since {since}). Wait for it to finish, or {fix}. "
            f"If that process is no longer running{on}, delete {lock} and try again.")


# ------------------------------------------- temporaries of killed processes
_TEMPORARY_NAMES = (re.compile(r"\.tmp-(\d+)-.+"), re.compile(r"\..+\.old-(\d+)"))  # atomic_path's two names


def sweep_temporaries(folder: Path) -> list[Path]:
    """Remove, anywhere under `folder`, the temporaries `atomic_path` names `.tmp-<pid>-<name>` and
    `.<name>.old-<pid>` whose process no longer exists (killed mid-write, with SIGKILL say); return them.

    Those of a live process, this one included, are left alone: it may still be writing them.
    Called when a run directory (or an evaluation or batch folder) is opened for writing.
    """
    removed: list[Path] = []
    if not Path(folder).is_dir():
        return removed
    for parent, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            pid = _temporary_pid(name)
            if pid is None or _process_exists(pid):
                continue
            path = Path(parent) / name
            with contextlib.suppress(OSError):  # gone already (another sweep), or not ours to remove
                _remove(path)
                removed.append(path)
            if name in folders:
                folders.remove(name)
    return removed


def _temporary_pid(name: str) -> int | None:
    for pattern in _TEMPORARY_NAMES:
        match = pattern.fullmatch(name)
        if match:
            return int(match.group(1))
    return None


def _process_exists(pid: int) -> bool:
    """Whether process `pid` exists; True when that cannot be told (another user's process, Windows)."""
    if pid <= 0 or pid == os.getpid() or os.name == "nt":  # os.kill(pid, 0) ends the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it exists, owned by someone else
        return True
    return True


# ----------------------------------------------------------------- Keras files
KERAS_FILE_FIX = ("Pass the folder of a run trained by keras-solutions (`ksol train` prints its path), "
                  "or train the model again.")


def load_keras_model(path: Path, custom_objects: dict[str, Any] | None = None, *, fix: str = KERAS_FILE_FIX):
    """A Keras model from a .keras file, loaded with safe_mode on (no arbitrary code runs).

    A file that is missing, not a zip archive, or not loadable with safe_mode (a Lambda layer,
    an unregistered custom class, a damaged archive) is a UsageError naming it, ending with `fix`.
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"Keras model file not found: {path}. {fix}")
    if not zipfile.is_zipfile(path):
        from solutions.core.wording import plural

        raise UsageError(f"{path} is not a Keras archive (not a zip file; {plural(path.stat().st_size, 'byte', thousands=True)}). {fix}")
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, custom_objects=custom_objects)
    except Exception as error:  # Keras raises ValueError, OSError, TypeError, KeyError... for foreign files
        detail = " ".join(str(error).split()).rstrip(".")
        raise UsageError(
            f"{path} could not be loaded as a Keras model with safe_mode on: {detail}. "
            f"Only models saved by keras-solutions (or plain Keras without custom code) can be loaded. {fix}"
        ) from None


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
