"""The ``eval`` command as a process: exit status, summary on stdout, progress and errors on
stderr, files written only on success."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fastmask
import pytest
from evalref import davis as ref
from evalref import gen

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "fastmask.evaluation.cli", "eval", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def ds(tmp_path) -> Path:
    gt = {k: v for k, v in gen.edge_case_gt(4).items() if not k.startswith("wide")}
    gen.write_davis(tmp_path / "DAVIS", gt)
    gen.write_results(tmp_path / "res", gen.semi_results(gt, 9))
    return tmp_path


def test_success_prints_summary_and_writes_the_official_files(ds):
    p = run("--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--threads", "2")
    assert p.returncode == 0, p.stderr
    assert "davis2017 semi-supervised, set val: 3 sequences" in p.stdout
    assert "J&F" in p.stdout and "Recall" in p.stdout and "worst sequences" in p.stdout
    # Files land in the results folder by default, like the official tool, with its bytes.
    _, metrics_res = ref.evaluate_davis(ds / "DAVIS", ds / "res")
    (ds / "expected").mkdir()
    ref.write_davis_csv(metrics_res, ds / "expected", "val")
    for name in ("global_results-val.csv", "per-sequence_results-val.csv"):
        assert (ds / "res" / name).read_bytes() == (ds / "expected" / name).read_bytes()
        assert f"wrote {ds / 'res' / name}" in p.stdout


def test_error_exit_status_and_no_output(ds):
    (ds / "res" / "id-gap" / "00003.png").unlink()
    p = run("--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--output", str(ds / "out"))
    assert p.returncode == 1
    assert p.stderr.startswith("fastmask eval: error: ") and "00003.png" in p.stderr
    assert p.stdout == ""
    assert not (ds / "out").exists()
    p = run(
        "--gt", str(ds / "DAVIS"), "--results", str(ds / "res"),
        "--output", str(ds / "out"), "--allow-missing", "--no-progress",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "1 missing result frame(s) were scored as empty masks" in p.stdout
    assert sorted(x.name for x in (ds / "out").iterdir()) == [
        "global_results-val.csv",
        "per-sequence_results-val.csv",
    ]


def test_vos_benchmark_protocol_and_bad_arguments(ds):
    gt = ds / "DAVIS" / "Annotations" / "480p"
    p = run("--protocol", "vos-benchmark", "--gt", str(gt), "--results", str(ds / "res"))
    assert p.returncode == 0, p.stderr
    text = (ds / "res" / "results.csv").read_text()
    assert text.startswith("sequence       ,obj,  J&F,    J,    F\nGlobal score   ,   , ")
    p = run("--protocol", "nope", "--gt", str(gt), "--results", str(ds / "res"))
    assert p.returncode == 2 and "invalid choice" in p.stderr
    p = run("--gt", str(ds / "missing"), "--results", str(ds / "res"))
    assert p.returncode == 1 and "DAVIS root not found" in p.stderr
