"""What the built package ships: the wheel a user installs, built from a copy of this checkout as pip builds it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_SECONDS = 300


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    # Built from a copy, so that the build's own files (build/, *.egg-info) never land in the checkout.
    source = tmp_path_factory.mktemp("source") / "xweb-emulator"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info",
                                                                "__pycache__", "*.db*"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
                            capture_output=True, text=True, timeout=BUILD_SECONDS)
    if result.returncode != 0 and "Could not find a version that satisfies" in result.stderr:
        pytest.skip(f"the build backend could not be installed (no package index?):\n{result.stderr}")
    assert result.returncode == 0, f"pip wheel exited {result.returncode}:\n{result.stdout}{result.stderr}"
    [built] = out.glob("xweb_emulator-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_ships_the_mit_license_its_metadata_names(wheel):
    names = wheel.namelist()
    [license_file] = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(license_file).decode()
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 xweb-emulator contributors" in text
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    headers = wheel.read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert "License-Expression: MIT" in headers and "License-File: LICENSE" in headers, headers


def test_the_wheel_ships_the_sign_on_page_and_its_migration(wheel):
    names = set(wheel.namelist())
    assert {"xweb_emulator/xweb/templates/eweb_sign_on.html",
            "xweb_emulator/migrations/versions/0005_xweb_web_users_sign_on.py"} <= names
