"""The throw-away PostgreSQL server helper finds the binaries, or says how to install them."""

from __future__ import annotations

from tests.storage.pg_server import HOW_TO_ENABLE, find_binaries


def _install(root, version):
    bindir = root / version / "bin"
    bindir.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(0o755)
    return bindir


def test_the_newest_installed_version_is_used(tmp_path):
    """Without initdb on the PATH, the newest version under the install folder is chosen."""
    _install(tmp_path, "9")
    newest = _install(tmp_path, "15")
    _install(tmp_path, "13")
    assert find_binaries(search_path=str(tmp_path / "empty"), installs=tmp_path) == newest


def test_binaries_on_the_path_come_first(tmp_path):
    """initdb and pg_ctl found on the PATH win over the install folder."""
    on_path = _install(tmp_path / "path", "local")
    _install(tmp_path / "installs", "16")
    assert find_binaries(search_path=str(on_path), installs=tmp_path / "installs") == on_path


def test_no_binaries_means_a_skip_that_says_how_to_enable(tmp_path):
    """With no binaries anywhere the helper finds none, and the skip reason says what to install."""
    assert find_binaries(search_path=str(tmp_path), installs=tmp_path) is None
    assert "apt-get install -y postgresql" in HOW_TO_ENABLE
