"""Shared fixtures. The real-mask corpus lives in ``../shared/corpus`` next to the checkout
(``FASTMASK_CORPUS=DIR`` points elsewhere; ``.ci/run`` points it at a missing folder once to prove
that a user's clone, which has no corpus, passes); tests that need it skip cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(
    os.environ.get("FASTMASK_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def corpus_path(*parts: str) -> Path:
    """Path inside the shared corpus; skips the calling test when it is missing."""
    p = CORPUS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared corpus not available: {p}")
    return p


def corpus_pngs(*parts: str) -> list[Path]:
    """Every PNG below a corpus folder (sorted); empty when the corpus is absent."""
    root = CORPUS.joinpath(*parts)
    return sorted(root.rglob("*.png")) if root.exists() else []


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.skip("shared corpus not available")
    return CORPUS


@pytest.fixture(scope="session")
def nine_cases(tmp_path_factory):
    """``evalref.nine.cases()``: one small dataset per protocol, generated once per session
    (read-only: the pipeline, distributed and diagnose tests share it)."""
    from evalref import nine

    return nine.cases(tmp_path_factory.mktemp("nine"))
