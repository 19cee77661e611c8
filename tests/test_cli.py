"""The ``fastmask`` command: ``info`` and ``demo``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import corpus_path
from fastmask.cli import main, make_sequence


def test_info_describes_a_mask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = np.zeros((30, 40), np.uint8)
    labels[5:10, 5:25] = 1
    labels[20:, :3] = 7
    p = tmp_path / "m.png"
    fastmask.write_png(p, labels)
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "40 x 30 (width x height)" in out
    assert "palette (3), 8-bit" in out
    assert "256 entries" in out
    assert "interlace     none" in out
    counts = np.bincount(labels.ravel())
    assert f"0: {counts[0]} px, 1: {counts[1]} px, 7: {counts[7]} px" in out


def test_info_reports_each_bad_file_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.png"
    fastmask.write_png(good, np.ones((4, 4), np.uint8))
    bad = tmp_path / "bad.png"
    bad.write_bytes(good.read_bytes()[:-20])
    missing = tmp_path / "missing.png"
    assert main(["info", str(bad), str(good), str(missing)]) == 1
    cap = capsys.readouterr()
    errors = cap.err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"fastmask: {bad}: truncated file")
    assert errors[1].startswith(f"fastmask: {missing}: No such file")
    assert str(good) in cap.out and str(bad) not in cap.out


def test_info_on_other_colour_types(capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        corpus_path("pngsuite", "basi0g16.png"),  # 16-bit gray, interlaced
        corpus_path("edge-cases", "davis2016_bear_00077_gray_alpha.png"),
        corpus_path("demos", "xmem2", "chair", "incorrect", "frame_000000.png"),  # RGBA mask
        corpus_path("edge-cases", "p_16.png"),  # RGBA, not DAVIS colours
    ]
    assert main(["info", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "grayscale (0), 16-bit" in out and "Adam7" in out
    assert "labels (gray) 0:" in out
    assert "(128, 0, 0): 5233" in out and "1: 5233 px" in out
    assert "colours are not all in the DAVIS palette" in out


def test_demo_round_trip_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--frames", "3", "--sequences", "2", "--threads", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 sequences x 3 frames of 854x480" in out
    assert "round trip: 6 frames identical" in out
    assert "decode (frames/s)" in out and "encode (frames/s)" in out and "Pillow" in out
    # What the numbers mean: frames scored vs generated, Decay, threads vs cores.
    assert "2 of the 6 frames are scored" in out
    assert "first frame" in out and "last one" in out and "Decay: the mean over" in out
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert f"(2 threads on {usable} usable core(s) of {os.cpu_count()}" in out


def test_demo_keeps_a_davis_layout_with_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--frames", "2", "--sequences", "1", "--out", str(tmp_path)]) == 0
    frames = sorted((tmp_path / "Annotations" / "480p" / "blobs-1").glob("*.png"))
    assert [f.name for f in frames] == ["00000.png", "00001.png"]
    want = make_sequence(2, objects=2, height=480, width=854, seed=0)
    assert np.array_equal(fastmask.read_pngs(frames), want)
    assert set(np.unique(want)) == {0, 1, 2}


def test_demo_without_pillow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["demo", "--frames", "1", "--sequences", "1"]) == 0
    assert "install Pillow to compare" in capsys.readouterr().out


def test_demo_rejects_bad_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--frames", "0"]) == 2
    assert "--frames" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    p = tmp_path / "m.png"
    fastmask.write_png(p, np.zeros((3, 3), np.uint8))
    r = subprocess.run(
        [sys.executable, "-m", "fastmask", "info", str(p)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "3 x 3" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "fastmask"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "COMMAND" in r.stderr
