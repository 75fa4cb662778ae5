"""Headless Chromium (Debian's package, installed by .ci/run) for the pages a person
sees: the DOM after scripts ran, and a screenshot at a given window size (a phone).
Tests that need it skip with the reason where the browser is absent."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=3000"]
PHONE = (390, 844)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    return path


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, timeout=timeout, check=False)


def dom(url: str, size: tuple[int, int] = PHONE) -> str:
    """The page's DOM after its scripts ran, as the browser built it."""
    out = _run([f"--window-size={size[0]},{size[1]}", "--dump-dom", url])
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    return out.stdout.decode("utf-8", errors="replace")


def screenshot(url: str, path: Path, size: tuple[int, int] = PHONE) -> Path:
    out = _run([f"--window-size={size[0]},{size[1]}", f"--screenshot={path}", url])
    assert out.returncode == 0 and path.exists(), out.stderr.decode(errors="replace")[-2000:]
    return path
