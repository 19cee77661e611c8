"""check-submission: a clean copy of the ground truth passes; each seeded defect is reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from dsref import gen
from fastmask.cli import main
from fastmask.submission import check_submission, requirements
from PIL import Image


def _copy_annotations(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


@pytest.fixture
def ytvos(tmp_path: Path) -> tuple[Path, Path]:
    gen.youtube_vos(tmp_path / "ds", "valid", videos=3, frames=30)
    res = tmp_path / "res"
    _copy_annotations(tmp_path / "ds" / "valid" / "Annotations", res)
    # the server reads the union of the objects' frames: keep exactly those
    meta = json.loads((tmp_path / "ds" / "valid" / "meta.json").read_text())
    for vid, entry in meta["videos"].items():
        need = {f for o in entry["objects"].values() for f in o["frames"]}
        for p in (res / vid).iterdir():
            if p.stem not in need:
                p.unlink()
    return tmp_path / "ds" / "valid" / "meta.json", res


def kinds(problems: list) -> list[str]:
    return sorted(p.kind for p in problems)


def test_clean_submission_passes(ytvos: tuple[Path, Path]) -> None:
    meta, res = ytvos
    assert check_submission(res, "youtube-vos", meta) == []
    # also when the videos sit under Annotations/ (how the zip is laid out)
    nested = res.parent / "zip"
    shutil.copytree(res, nested / "Annotations")
    assert check_submission(nested, "youtube-vos", meta) == []


def test_each_defect_is_reported(ytvos: tuple[Path, Path]) -> None:
    meta, res = ytvos
    vids = sorted(p.name for p in res.iterdir())
    v0, v1, v2 = (res / v for v in vids)
    frames0 = sorted(v0.iterdir())
    frames1 = sorted(v1.iterdir())
    frames0[-1].unlink()  # missing frame
    (v0 / "notes.txt").write_text("x")  # extra non-PNG
    shutil.copy(frames0[0], v0 / "00001.png")  # extra frame
    shutil.rmtree(v2)  # missing video
    (res / "ghost").mkdir()  # extra video
    h, w = np.array(Image.open(frames1[0])).shape
    Image.fromarray(np.zeros((h, w), np.uint8), "L").save(frames1[0])  # grayscale
    frames1[1].write_bytes(b"not a png at all")  # corrupt
    small = Image.fromarray(np.zeros((h - 1, w), np.uint8), "P")
    small.putpalette(gen.PALETTE)
    small.save(frames1[2])  # wrong size
    bad = np.array(Image.open(frames1[3]))
    bad[0, 0] = 7
    im = Image.fromarray(bad, "P")
    im.putpalette(gen.PALETTE)
    im.save(frames1[3])  # unknown object id
    problems = check_submission(res, "youtube-vos", meta)
    assert kinds(problems) == sorted(
        [
            "missing-frame",
            "extra-file",
            "extra-file",
            "missing-video",
            "extra-video",
            "not-palette",
            "not-png",
            "size",
            "ids",
        ]
    )
    by_kind = {p.kind: p for p in problems}
    assert frames0[-1].name in by_kind["missing-frame"].message
    assert "labels 7" in by_kind["ids"].message and by_kind["ids"].path == str(frames1[3])
    assert f"expected {w}x{h}" in by_kind["size"].message
    assert "grayscale" in by_kind["not-palette"].message


def test_cli_exit_codes(ytvos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    meta, res = ytvos
    args = ["check-submission", str(res), "--protocol", "youtube-vos", "--gt-meta", str(meta)]
    assert main(args) == 0
    assert "ready to submit" in capsys.readouterr().out
    victim = sorted(next(res.iterdir()).iterdir())[0]
    victim.unlink()
    assert main(args) == 1
    out = capsys.readouterr()
    assert victim.name in out.out and "1 problem(s): 1 missing-frame" in out.err
    args[-1] = str(meta.parent / "nope.json")
    assert main(args) == 2


def test_lvos_requirements(tmp_path: Path) -> None:
    gen.lvos(tmp_path, "valid")
    meta_path = tmp_path / "valid" / "valid_meta.json"
    meta = json.loads(meta_path.read_text())
    req = requirements("lvos", meta_path)
    for vid, entry in meta["videos"].items():
        want = set()
        for o in entry["objects"].values():
            fr = o["frame_range"]
            # the scorer reads start+5 .. end-5 (first and last of the range skipped)
            want |= {f"{t:08d}" for t in range(int(fr["start"]) + 5, int(fr["end"]), 5)}
        assert set(req.videos[vid].frames) == want
    res = tmp_path / "res"
    _copy_annotations(tmp_path / "valid" / "Annotations", res)
    problems = check_submission(res, "lvos", meta_path)
    # the copy holds every annotated frame: those the scorer does not read are extra
    assert problems and {p.kind for p in problems} == {"extra-file"}
    for p in problems:
        Path(p.path).unlink()
    assert check_submission(res, "lvos", meta_path) == []


def test_mose_v2_and_davis(tmp_path: Path) -> None:
    gen.mose(tmp_path / "m", "valid", version=2)
    meta = tmp_path / "m" / "valid" / "meta.json"
    res = tmp_path / "mres"
    _copy_annotations(tmp_path / "m" / "valid" / "Annotations", res)
    assert check_submission(res, "mose", meta) == []
    shutil.rmtree(tmp_path / "m" / "valid" / "JPEGImages")  # frames then come from "length"
    assert check_submission(res, "mose", meta) == []
    first = sorted(next(res.iterdir()).iterdir())[0]
    first.unlink()
    assert kinds(check_submission(res, "mose", meta)) == ["missing-frame"]

    gen.davis_sparse(tmp_path / "d", frames=20, count=6)
    dres = tmp_path / "dres"
    problems = check_submission(dres, "davis2017", tmp_path / "d")
    assert kinds(problems) == ["missing-video"]
    _copy_annotations(tmp_path / "d" / "Annotations" / "480p", dres)
    problems = check_submission(dres, "davis2017", tmp_path / "d")
    # sparse ground truth, but a DAVIS submission needs every image frame; the late object 2
    # is not an object under the DAVIS rule (N = largest label of the first frame)
    want = ["missing-frame", "missing-frame"]
    for seq in sorted(p.name for p in dres.iterdir()):
        first = np.array(Image.open(sorted((dres / seq).iterdir())[0]))
        for f in sorted((dres / seq).iterdir()):
            if np.array(Image.open(f)).max() > first.max():
                want.append("ids")
    assert kinds(problems) == sorted(want) and "ids" in want
    assert "14 of 20 required frames missing" in problems[0].message
