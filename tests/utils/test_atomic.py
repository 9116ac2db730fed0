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
