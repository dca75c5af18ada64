"""The browser packages: installed from the lock file when missing or older than it, else left alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from web import assets


@pytest.fixture
def frontend_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """web/frontend's package files in a folder of their own, without node_modules."""
    folder = tmp_path / "frontend"
    folder.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(assets.FRONTEND / name, folder / name)
    modules = folder / "node_modules"
    monkeypatch.setattr(assets, "FRONTEND", folder)
    monkeypatch.setattr(assets, "NODE_MODULES", modules)
    monkeypatch.setattr(assets, "LOCK", folder / "package-lock.json")
    monkeypatch.setattr(assets, "_INSTALLED", modules / ".package-lock.json")
    monkeypatch.setattr(assets, "JSQR", modules / "jsqr" / "dist" / "jsQR.js")
    return folder


def test_missing_packages_are_installed_and_then_left_alone(frontend_copy: Path) -> None:
    assert not assets.frontend_is_current()
    assets.ensure_frontend()
    assert assets.JSQR.exists()
    assert assets.frontend_is_current()
    installed_at = assets._INSTALLED.stat().st_mtime
    assets.ensure_frontend()
    assert assets._INSTALLED.stat().st_mtime == installed_at


def test_a_lock_file_newer_than_the_install_reinstalls(frontend_copy: Path) -> None:
    assets.ensure_frontend()
    later = assets._INSTALLED.stat().st_mtime + 60
    os.utime(assets.LOCK, (later, later))
    assert not assets.frontend_is_current()
    assets.ensure_frontend()
    assert assets.frontend_is_current()


def test_without_npm_the_error_says_what_to_install(
    frontend_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    with pytest.raises(assets.FrontendMissing, match="npm"):
        assets.ensure_frontend()
