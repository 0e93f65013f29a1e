import pytest

from solutions.core.errors import UsageError
from solutions.core.runs import atomic_path, atomic_write_text, check_run_dir, next_run_dir


def test_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_atomic_path_replaces_a_folder_whole(tmp_path):
    folder = tmp_path / "figures"
    folder.mkdir()
    (folder / "old.png").write_text("x")
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "new.png").write_text("y")
    assert [p.name for p in folder.iterdir()] == ["new.png"]


def test_temporary_names_keep_the_suffixes_keras_checks(tmp_path):
    with atomic_path(tmp_path / "best.weights.h5") as tmp:
        assert tmp.name.endswith(".weights.h5")
        tmp.write_text("w")


def test_check_run_dir_explains_what_a_run_directory_is(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        check_run_dir(tmp_path / "missing")
    with pytest.raises(UsageError, match="is not a run directory"):
        check_run_dir(tmp_path)


def test_next_run_dir_counts_up(tmp_path):
    first = next_run_dir("x", tmp_path)
    first.mkdir(parents=True)
    assert next_run_dir("x", tmp_path).name == "run2"


def test_atomic_writes_get_normal_file_permissions_and_keep_existing_ones(tmp_path):
    import os
    import stat

    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
