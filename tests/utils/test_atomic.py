"""Atomic writes: the target is replaced whole, a failure leaves the old one, permissions follow the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from babelir.utils.atomic import atomic_directory, atomic_write_text


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_files_and_folders_get_the_umask_permissions_not_owner_only(tmp_path: Path, umask_022) -> None:
    atomic_write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    with atomic_directory(tmp_path / "model") as folder:
        (folder / "weights").write_text("w")
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o755
    os.umask(0o077)
    atomic_write_text(tmp_path / "b.txt", "x")
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "d"):
        raise RuntimeError("crash")
    from babelir.utils.atomic import atomic_open

    with pytest.raises(RuntimeError), atomic_open(tmp_path / "a.txt") as handle:
        handle.write("new")
        raise RuntimeError("crash")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_folder_tree_written_owner_only_inside_gets_the_umask_permissions(tmp_path: Path, umask_022) -> None:
    with atomic_directory(tmp_path / "model") as folder:
        (folder / "sub").mkdir(mode=0o700)
        (folder / "sub" / "model.safetensors").write_bytes(b"w")
        os.chmod(folder / "sub" / "model.safetensors", 0o600)  # what safetensors does
    assert stat.S_IMODE((tmp_path / "model" / "sub").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "model" / "sub" / "model.safetensors").stat().st_mode) == 0o644


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch, watched: Path) -> list[tuple[tuple[int, int], bool]]:
    """Each fsync as (device, inode) of what was synced, and whether ``watched`` existed at that moment
    (a rename keeps the inode, so the entries can be matched with the final paths afterwards)."""
    calls: list[tuple[tuple[int, int], bool]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        calls.append(((info.st_dev, info.st_ino), watched.exists()))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def _key(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


@pytest.mark.skipif(os.name == "nt", reason="folders cannot be opened (and so not fsynced) on Windows")
@pytest.mark.parametrize("replace", [False, True], ids=["new", "replacing"])
def test_atomic_directory_syncs_every_file_and_folder_before_the_swap_and_the_parent_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replace: bool
) -> None:
    target = tmp_path / "model"
    if replace:
        with atomic_directory(target) as folder:
            (folder / "old").write_text("old")
    calls = _record_fsyncs(monkeypatch, target / "weights")
    with atomic_directory(target) as folder:
        (folder / "sub").mkdir()
        (folder / "weights").write_text("w")
        (folder / "sub" / "config.json").write_text("{}")
    synced_before_swap = {key for key, swapped in calls if not swapped}
    for entry in (target / "weights", target / "sub" / "config.json", target / "sub", target):
        assert _key(entry) in synced_before_swap, entry
    # the last sync is the parent, once the new folder has its name
    assert calls[-1] == (_key(tmp_path), True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.skipif(os.name == "nt", reason="folders cannot be opened (and so not fsynced) on Windows")
def test_atomic_open_syncs_the_file_then_the_parent_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.txt"
    calls = _record_fsyncs(monkeypatch, target)
    atomic_write_text(target, "x")
    assert calls == [(_key(target), False), (_key(tmp_path), True)]


def test_folders_that_cannot_be_opened_are_skipped_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from babelir.utils import atomic

    real_open = os.open

    def refuse_folders(path, flags, *args, **kwargs):  # what Windows does
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse_folders)
    with atomic_directory(tmp_path / "model") as folder:
        (folder / "weights").write_text("w")
    atomic_write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "model" / "weights").read_text() == "w"
    assert (tmp_path / "a.txt").read_text() == "x"


def test_a_failed_swap_puts_the_old_folder_back(tmp_path: Path, monkeypatch) -> None:
    from babelir.utils import atomic

    target, new = tmp_path / "index", tmp_path / ".index.new"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    new.mkdir()
    real_replace = os.replace
    calls = []

    def second_rename_fails(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", second_rename_fails)
    with pytest.raises(OSError):
        atomic.replace_directory(new, target)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert (target / "keep.txt").read_text() == "old"


def test_a_cache_folder_another_process_finished_first_is_kept(tmp_path):
    """keep_existing: the second writer of a content-keyed cache drops its copy; the path never goes missing."""
    from babelir.utils.atomic import atomic_directory

    target = tmp_path / "cache-entry"
    with atomic_directory(target, keep_existing=True) as first:
        (first / "a.txt").write_text("first")
        with atomic_directory(target, keep_existing=True) as second:  # finishes before the first one
            (second / "a.txt").write_text("second")
    assert (target / "a.txt").read_text() == "second"  # the one finished first is kept
    assert [p.name for p in tmp_path.iterdir()] == ["cache-entry"]  # the other copy is gone
    with atomic_directory(target) as third:  # without keep_existing: replaced, as before
        (third / "a.txt").write_text("third")
    assert (target / "a.txt").read_text() == "third"
