"""The docstring examples of the package run and print what they show.

Examples that need a dataset on disk are marked ``# doctest: +SKIP``; every other example is
executed with ``np`` and ``fastmask`` in scope and compared with its shown output.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import fastmask
import numpy as np
import pytest

# ``fastmask.__main__`` runs the CLI on import; it has no docstring examples.
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(fastmask.__path__, "fastmask.")
    if m.name != "fastmask.__main__"
)


@pytest.mark.parametrize("name", ["fastmask", *MODULES])
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module(name)
    # Examples that write files write them into a scratch folder.
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {**vars(module), "np": np, "fastmask": fastmask}
    # The `set_max_pixels` example changes a process-wide limit: put it back.
    limit = fastmask.get_max_pixels()
    try:
        for test in finder.find(module, name, globs=globs):
            runner.run(test)
    finally:
        fastmask.set_max_pixels(limit)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see above)"
