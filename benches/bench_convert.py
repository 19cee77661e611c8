"""``fastmask.convert`` vs what users write today, same data, same run, one core each.

- ``convert json->png``: SA-V-style masklet JSON (one file per video) to DAVIS palette PNGs.
  Baseline: ``json.load``, ``pycocotools.mask.decode`` per object and frame, objects painted in
  id order with numpy, ``PIL.Image.save`` of a palette image.
- ``convert png->json``: palette PNGs to masklet JSON. Baseline: ``PIL.Image.open`` + numpy,
  ``pycocotools.mask.encode`` per object and frame, ``json.dump``.

Data: the DAVIS-2017 OSVOS results of ``../shared/corpus`` (30 videos, 1,999 frames at 480p;
``FASTMASK_BENCH_SMALL=1``: the first 3 videos); skipped when the corpus is absent. fastmask
runs with ``threads=1`` so the ratio is per core; frames per second go in ``extra_info``.

Outputs go to ``/dev/shm`` when it exists (``FASTMASK_BENCH_DIR`` to choose): on the dev VM
creating a file on the root disk costs 2.6 ms whatever it holds (0.06 ms on tmpfs), more than
decoding and encoding a 480p frame, and would measure the disk instead of the converters.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import CORPUS

pycocotools = pytest.importorskip("pycocotools.mask")
Image = pytest.importorskip("PIL.Image")

SMALL = bool(os.environ.get("FASTMASK_BENCH_SMALL"))
SRC = CORPUS / "davis2017-osvos"
TARGET = ">= 20x"

pytestmark = pytest.mark.skipif(not SRC.is_dir(), reason="../shared/corpus absent")


@pytest.fixture(scope="module")
def data() -> tuple[Path, Path, int]:
    where = os.environ.get("FASTMASK_BENCH_DIR") or (
        "/dev/shm" if os.path.isdir("/dev/shm") else None
    )
    base = Path(tempfile.mkdtemp(prefix="fastmask-bench-convert-", dir=where))
    names = sorted(p.name for p in SRC.iterdir() if p.is_dir())[: 3 if SMALL else None]
    png = base / "png"
    png.mkdir()
    for n in names:
        (png / n).symlink_to(SRC / n)
    fastmask.convert(png, base / "json", to="sav-json", threads=1)
    frames = sum(len(list((png / n).glob("*.png"))) for n in names)
    yield png, base / "json", frames
    shutil.rmtree(base, ignore_errors=True)


_seq = itertools.count()


def _fresh(root: Path) -> Path:
    """A new output path in the benchmark's temporary folder ``root``."""
    return root / f"out-{next(_seq)}"


# ----- baselines -----------------------------------------------------------------------------


def baseline_json_to_png(src: Path, dst: Path) -> None:
    palette = fastmask.DAVIS_PALETTE.reshape(-1).tolist()
    for f in sorted(src.glob("*.json")):
        with open(f) as fh:
            d = json.load(fh)
        h, w = int(d["video_height"]), int(d["video_width"])
        names = d.get("frame_names") or [f"{4 * i:05d}" for i in range(len(d["masklet"]))]
        out = dst / f.stem
        out.mkdir(parents=True)
        for name, row in zip(names, d["masklet"]):
            lab = np.zeros((h, w), np.uint8)
            for oid, r in sorted(zip(d["masklet_id"], row)):
                if r is not None:
                    lab[pycocotools.decode(r) > 0] = oid
            im = Image.fromarray(lab, mode="P")
            im.putpalette(palette)
            im.save(out / f"{name}.png")


def baseline_png_to_json(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for v in sorted(p for p in src.iterdir() if p.is_dir()):
        files = sorted(v.glob("*.png"))
        labs = [np.array(Image.open(p)) for p in files]
        ids = sorted({int(i) for lab in labs for i in np.unique(lab)} - {0})
        masklet = []
        for lab in labs:
            row = []
            for i in ids:
                r = pycocotools.encode(np.asfortranarray(lab == i))
                row.append({"size": r["size"], "counts": r["counts"].decode()})
            masklet.append(row)
        h, w = labs[0].shape
        d = {"video_id": v.name, "video_height": h, "video_width": w, "masklet": masklet,
             "masklet_id": ids, "frame_names": [p.stem for p in files]}  # fmt: skip
        with open(dst / f"{v.name}.json", "w") as fh:
            json.dump(d, fh)


# ----- benchmarks ----------------------------------------------------------------------------


def _run(benchmark, fn, root: Path, frames: int, group: str, impl: str, baseline: bool) -> None:
    def setup():  # a fresh destination every round: convert skips finished videos
        return (_fresh(root),), {}

    benchmark.group = group
    benchmark.extra_info.update(impl=impl, target=TARGET, frames=frames)
    if baseline:
        benchmark.extra_info["baseline"] = True
    benchmark.pedantic(fn, setup=setup, rounds=1 if not SMALL else 2, iterations=1)
    benchmark.extra_info["frames_per_s_per_core"] = round(frames / benchmark.stats.stats.mean, 1)


# (task, impl, baseline): fastmask and the tools a user would otherwise use, each direction.
CASES = [
    ("json->png", "fastmask", False),
    ("json->png", "pycocotools+pillow", True),
    ("png->json", "fastmask", False),
    ("png->json", "pillow+pycocotools", True),
]


@pytest.mark.parametrize(("task", "impl", "baseline"), CASES, ids=[f"{t} {i}" for t, i, _ in CASES])
def test_convert(benchmark, data, task: str, impl: str, baseline: bool) -> None:
    png, js, frames = data
    src = js if task == "json->png" else png
    if baseline:
        fn = functools.partial(
            baseline_json_to_png if task == "json->png" else baseline_png_to_json, src
        )
    else:
        to = "png" if task == "json->png" else "sav-json"
        fn = functools.partial(fastmask.convert, src, to=to, threads=1)
    _run(benchmark, fn, js.parent, frames, f"convert {task}", impl, baseline)


def test_baselines_agree(data, tmp_path: Path) -> None:
    """The baselines write the same masks as fastmask (else the ratio compares different work)."""
    png, js, _ = data
    baseline_json_to_png(js, tmp_path / "b")
    fastmask.convert(js, tmp_path / "f", to="png", threads=1)
    for v in sorted(p.name for p in png.iterdir()):
        a = fastmask.read_pngs(sorted((tmp_path / "b" / v).glob("*.png")))
        b = fastmask.read_pngs(sorted((tmp_path / "f" / v).glob("*.png")))
        assert np.array_equal(a, b)
    baseline_png_to_json(png, tmp_path / "bj")
    for f in sorted((tmp_path / "bj").glob("*.json")):
        ours = json.loads((js / f.name).read_text())
        theirs = json.loads(f.read_text())
        assert ours["masklet"] == theirs["masklet"]
