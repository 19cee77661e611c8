"""Every code block of README.md runs as written, in a scratch folder laid out as the README
assumes (``Annotations/480p/bear``, a ``DAVIS`` root, ``results/osvos``, ``youtube-vos``).

Python blocks are executed as they are. In shell blocks each ``fastmask ...`` command runs through
``fastmask.cli.main`` and must exit 0; the ``pip`` / ``maturin`` / ``pytest`` / ``curl`` steps are
installation, which ``.ci/run`` runs literally (the README's test command is its ``readme`` step).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import test_convert as convert_tests
from dsref import gen as dsgen
from evalref import gen
from fastmask.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", README.read_text(), re.S)
INSTALL = ("pip", "maturin", "pytest", "curl")


def _davis_like(root: Path) -> None:
    """``bear`` (2 objects, 8 frames) as ``Annotations/480p/bear`` in ``root`` and in a DAVIS
    root ``root/DAVIS``, and perturbed results in ``root/results/osvos``."""
    rng = np.random.default_rng(0)
    bear = gen.make_sequence(rng, 60, 80, 8, ["always", "always"])
    gen.write_frames(root / "Annotations" / "480p" / "bear", bear)
    gen.write_davis(root / "DAVIS", {"bear": bear})
    gen.write_results(root / "results" / "osvos", {"bear": gen.perturb(rng, bear, [1, 2])})


def _sav_like(root: Path) -> None:
    """Two SA-V videos in ``root/SA-V/sav_val/Annotations_6fps`` and results in
    ``root/results/sam2``."""
    rng = np.random.default_rng(1)
    videos = {
        f"sav_{i:06d}": {
            "000": (gen.make_sequence(rng, 24, 32, 5, ["always"]) == 1).astype(np.uint8)
        }
        for i in range(2)
    }
    gen.write_sav(root / "SA-V" / "sav_val" / "Annotations_6fps", videos)
    res = {
        v: {o: gen.perturb(rng, m, [1], drop=False) for o, m in objs.items()}
        for v, objs in videos.items()
    }
    gen.write_sav(root / "results" / "sam2", res)


def _json_like(root: Path) -> None:
    """SA-V train masklet JSON (``SA-V/sav_train/sav_000`` and ``sav_train/sav_000``), a
    YouTube-VIS file ``ovis/annotations_train.json`` and SA-V val PNGs in ``sav_val``, made as
    tests/test_convert.py makes them (pycocotools RLE)."""
    rng = np.random.default_rng(2)
    for train in (root / "SA-V" / "sav_train", root / "sav_train"):
        for i, (t, n) in enumerate([(6, 3), (4, 2)], start=1):
            f = train / "sav_000" / f"sav_{i:06d}_manual.json"
            convert_tests.write_sav(f, convert_tests.make_objects(rng, t, n, 24, 32))
            data = json.loads(f.read_text())
            data["masklet_size_bucket"] = ["small"] * n  # one of SA-V's per-object fields
            f.write_text(json.dumps(data))
    (root / "ovis").mkdir()
    convert_tests.vis_json(root / "ovis" / "annotations_train.json", rng)
    shutil.copytree(root / "SA-V" / "sav_val", root / "sav_val")


def _youtube_vos(root: Path, submission: bool) -> None:
    dsgen.youtube_vos(root / "youtube-vos", "train", videos=2, frames=20)
    dsgen.youtube_vos(root / "youtube-vos", "valid", videos=2, frames=20)
    if submission:  # results/ as a server expects it: the frames meta.json lists
        valid = root / "youtube-vos" / "valid"
        shutil.rmtree(root / "results")
        shutil.copytree(valid / "Annotations", root / "results")
        meta = json.loads((valid / "meta.json").read_text())
        for vid, entry in meta["videos"].items():
            need = {f for o in entry["objects"].values() for f in o["frames"]}
            for p in (root / "results" / vid).iterdir():
                if p.stem not in need:
                    p.unlink()


def _commands(block: str) -> list[list[str]]:
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        for cmd in filter(None, (c.strip() for c in line.split("&&"))):
            out.append(shlex.split(cmd))
    return out


@pytest.mark.parametrize(
    ("lang", "code"), BLOCKS, ids=[f"block{i}-{lang}" for i, (lang, _) in enumerate(BLOCKS)]
)
def test_readme_block_runs(lang: str, code: str, tmp_path, monkeypatch, capsys) -> None:
    _davis_like(tmp_path)
    _youtube_vos(tmp_path, submission="check-submission" in code)
    if "SA-V" in code or "sav_val" in code:
        _sav_like(tmp_path)
    if "sav_train" in code:
        _json_like(tmp_path)
    monkeypatch.chdir(tmp_path)
    if lang == "python":
        exec(compile(code, f"{README}:{lang} block", "exec"), {"__name__": "__readme__"})
        return
    ran = 0
    for argv in _commands(code):
        assert argv[0] in ("fastmask", *INSTALL), f"README shell step not covered: {argv}"
        if argv[0] == "fastmask":
            # --dask / --ray need the 'distributed' extra, which a plain test venv lacks.
            for flag, module in (("--dask", "distributed"), ("--ray", "ray")):
                if flag in argv:
                    pytest.importorskip(module)
            assert main(argv[1:]) == 0, capsys.readouterr().err
            ran += 1
    if not ran:
        pytest.skip("installation commands only: .ci/run runs them")


def test_every_block_was_found() -> None:
    # A change to the README's fences must not silently drop blocks from the test.
    assert len(BLOCKS) == README.read_text().count("```") // 2
