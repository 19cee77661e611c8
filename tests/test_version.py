"""The version is stated in Cargo.toml, pyproject.toml and the compiled module: they must agree."""

from __future__ import annotations

import re
from pathlib import Path

import fastmask

ROOT = Path(__file__).resolve().parents[1]


def _toml_version(path: Path) -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', path.read_text(), flags=re.M)
    assert m, f"no version line in {path}"
    return m.group(1)


def test_versions_agree() -> None:
    cargo = _toml_version(ROOT / "Cargo.toml")
    pyproject = _toml_version(ROOT / "pyproject.toml")
    assert cargo == pyproject == fastmask.__version__
