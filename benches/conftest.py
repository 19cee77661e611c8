"""Benchmark conventions and the ratio report.

Every benchmark sets ``benchmark.group`` to the task it measures (e.g. ``"decode 854x480"``) and
``benchmark.extra_info["impl"]`` to who does it (``"fastmask"``, ``"pillow"``, ``"pycocotools"``,
...). Exactly one benchmark per group may set ``benchmark.extra_info["baseline"] = True``: the
tool a user would otherwise use. After the run, a table gives each implementation's mean time and
its speed-up over the group's baseline, measured in this same run. Targets from the issues are
printed beside the ratio (``extra_info["target"]``, e.g. ``">= 10x"``) for a reader to check:
benchmarks never assert on time.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

# As tests/conftest.py: FASTMASK_CORPUS overrides ../shared/corpus.
CORPUS = Path(
    os.environ.get("FASTMASK_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def corpus_pngs(*parts: str) -> list[Path]:
    """Every PNG below a corpus folder (sorted); empty when the corpus is absent."""
    root = CORPUS.joinpath(*parts)
    return sorted(root.rglob("*.png")) if root.exists() else []


def vmhwm_kb() -> int:
    """This process's peak resident memory in kB (Linux ``VmHWM``, Rust allocations included).

    Children measure themselves with it (paste ``VMHWM_SRC`` into their script): ``VmHWM``
    starts afresh at exec, whereas ``ru_maxrss`` of a child started by ``subprocess`` carries the
    parent's peak (measured: parent at 600 MB -> child's ``ru_maxrss`` 613 MB, its ``VmHWM``
    13.6 MB).
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


VMHWM_SRC = inspect.getsource(vmhwm_kb)


def _rows(config: pytest.Config) -> list[tuple[str, str, float, bool, str]]:
    session = getattr(config, "_benchmarksession", None)
    rows = []
    for bench in getattr(session, "benchmarks", None) or []:
        stats = getattr(bench, "stats", None)
        if stats is None:
            continue
        info = getattr(bench, "extra_info", {}) or {}
        rows.append(
            (
                bench.group or "",
                str(info.get("impl", bench.name)),
                float(stats.mean),
                bool(info.get("baseline", False)),
                str(info.get("target", "")),
            )
        )
    return rows


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    rows = _rows(config)
    if not rows:
        return
    tr = terminalreporter
    tr.section("speed-up over the baseline tool (same run)")
    tr.write_line(f"{'group':<44} {'impl':<28} {'mean':>11} {'speed-up':>9}  target")
    for group in sorted({r[0] for r in rows}):
        members = [r for r in rows if r[0] == group]
        base = next((r for r in members if r[3]), None)
        for _, impl, mean, is_base, target in sorted(members, key=lambda r: r[2]):
            if base is None or is_base:
                ratio = "baseline" if is_base else ""
            else:
                ratio = f"{base[2] / mean:.1f}x"
            tr.write_line(f"{group:<44} {impl:<28} {mean * 1e6:>9.1f}us {ratio:>9}  {target}")
