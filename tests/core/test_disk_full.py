"""A full disk while writing a run: one DiskFullError naming the folder, the previous file intact, no temporary."""

from __future__ import annotations

import errno
import os

import pytest

from solutions.core.errors import DiskFullError, SolutionsError
from solutions.core.runs import atomic_path, atomic_write_json, atomic_write_text


@pytest.fixture
def disk_fills_part_way(monkeypatch):
    """Every write through os.fdopen stores half its bytes, then fails as a full disk does."""
    real = os.fdopen

    class HalfWritten:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: HalfWritten(real(fd, *args, **kwargs)))


def _assert_disk_full_message(error, folder):
    message = str(error)
    assert isinstance(error, SolutionsError) and error.kind == "disk full"
    assert f"The disk holding {folder} is full" in message
    assert "Free space" in message and "--out on another disk" in message


def test_a_full_disk_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, disk_fills_part_way):
    target = tmp_path / "metrics.json"
    target.write_text('{"auc": 0.9}\n')
    with pytest.raises(DiskFullError) as caught:
        atomic_write_json(target, {"auc": 0.95, "padding": "x" * 10_000})
    _assert_disk_full_message(caught.value, tmp_path)
    assert "metrics.json could not be written" in str(caught.value)
    assert target.read_text() == '{"auc": 0.9}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_full_disk_on_a_new_file_leaves_nothing(tmp_path, disk_fills_part_way):
    with pytest.raises(DiskFullError):
        atomic_write_text(tmp_path / "report.md", "# report\n" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_a_spent_quota_says_so(tmp_path, monkeypatch):
    def quota(fd):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "fsync", quota)
    with pytest.raises(DiskFullError, match=f"The disk holding {tmp_path} is over its quota"):
        atomic_write_text(tmp_path / "report.md", "x")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_saving_a_model_keeps_the_previous_model(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"the previous model")
    with pytest.raises(DiskFullError) as caught:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:  # what model.save does, until the disk fills
                handle.write(b"half a zip archive")
                raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    _assert_disk_full_message(caught.value, tmp_path)
    assert target.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_a_library_passing_the_full_disk_on_in_its_own_words_is_recognised(tmp_path):
    # h5py (weights files) and TensorFlow (SavedModel) raise their own errors carrying the system's message
    with pytest.raises(DiskFullError):
        with atomic_path(tmp_path / "best.weights.h5") as tmp:
            tmp.write_bytes(b"w")
            raise RuntimeError("Unable to synchronously create file (file write failed: errno = 28, "
                               "error message = 'No space left on device')")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_a_folder_keeps_the_previous_folder(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "old.png").write_bytes(b"old")
    with pytest.raises(DiskFullError) as caught:
        with atomic_path(figures) as tmp:
            tmp.mkdir()
            (tmp / "roc.png").write_bytes(b"new")
            raise OSError(errno.ENOSPC, "No space left on device")
    _assert_disk_full_message(caught.value, tmp_path)
    assert "figures could not be written" in str(caught.value)
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]
    assert [p.name for p in figures.iterdir()] == ["old.png"] and (figures / "old.png").read_bytes() == b"old"


def test_a_folder_moved_aside_comes_back_when_its_replacement_cannot_be_renamed(tmp_path, monkeypatch):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "old.png").write_bytes(b"old")
    real, calls = os.replace, []

    def replace(source, destination):
        calls.append(source)
        if len(calls) == 2:  # the new folder into place: the directory needs a block it cannot get
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(DiskFullError):
        with atomic_path(figures) as tmp:
            tmp.mkdir()
            (tmp / "roc.png").write_bytes(b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]
    assert [p.name for p in figures.iterdir()] == ["old.png"]


def test_other_os_errors_are_not_taken_for_a_full_disk(tmp_path, monkeypatch):
    def denied(fd):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "fsync", denied)
    with pytest.raises(PermissionError):
        atomic_write_text(tmp_path / "report.md", "x")
    assert list(tmp_path.iterdir()) == []
