"""Dataset loaders and protocols on real masks (the shared corpus; skipped where absent).

OSVOS predictions on DAVIS-2017 val stand in for ground truth in MOSE v2 and LVOS layouts (real
shapes, 854x480 and 910x480 frames, up to 6 objects); the "predictions" are those masks shifted
and eroded. Numbers are compared with the step-by-step references."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_path
from dsref import gen, ref
from fastmask.datasets import DAVIS, Folder
from fastmask.evaluation._dataset_protocols import evaluate_dataset
from PIL import Image
from scipy import ndimage

pytest.importorskip("fastmask.metrics")

SEQS = ("bike-packing", "india")  # 854x480 / 910x480-type sequences, 2 and 3 objects


def _fake_pred(lab: np.ndarray, t: int) -> np.ndarray:
    out = np.zeros_like(lab)
    for k in np.unique(lab):
        if k == 0:
            continue
        m = np.roll(lab == k, (t % 5 - 2, 3), axis=(0, 1))
        if t % 3 == 0:
            m = ndimage.binary_erosion(m, iterations=2)
        out[m] = k
    return out


def test_davis_loader_reads_corpus_like_pillow() -> None:
    root = corpus_path("davis2016")
    ds = DAVIS(root, None, year=2016)
    assert len(ds) == 50
    for name in ds.names[:3]:
        v = ds[name]
        got = v.read_masks(threads=2)
        # one DAVIS-2016 frame is gray+alpha: the loader keeps the gray channel
        want = np.stack([np.array(Image.open(v.mask_path(f)).getchannel(0)) for f in v.annotated])
        assert np.array_equal(got, want)
    osvos = Folder(corpus_path("davis2017-osvos"))
    v = osvos["india"]
    assert v.size == np.array(Image.open(v.mask_path(v.annotated[0]))).shape
    assert sorted(v.objects) == sorted(set(np.unique(v.read_masks())) - {0})


def test_mosev2_on_real_masks(tmp_path: Path) -> None:
    src = corpus_path("davis2017-osvos")
    meta: dict = {"videos": {}}
    for seq in SEQS:
        names = sorted(p.name for p in (src / seq).iterdir())[:12]
        labs = [np.array(Image.open(src / seq / n)) for n in names]
        for t, (n, lab) in enumerate(zip(names, labs)):
            dst = tmp_path / "valid" / "Annotations" / seq / n
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / seq / n, dst)
            gen.save_png(tmp_path / "res" / seq / n, _fake_pred(lab, t))
        ids = sorted(int(k) for k in set(np.unique(labs[0])) - {0})
        h, w = labs[0].shape
        meta["videos"][seq] = {"length": len(names), "height": h, "width": w, "objects": ids}
    (tmp_path / "valid" / "meta.json").write_text(json.dumps(meta))
    _, fmt, text = ref.mosev2_score(
        str(tmp_path / "valid" / "meta.json"),
        str(tmp_path / "valid" / "Annotations"),
        str(tmp_path / "res"),
    )
    ev = evaluate_dataset(tmp_path, tmp_path / "res", "mosev2", split="valid")
    got = json.loads(ev.files()["metrics.json"])
    got.pop("total_time")
    assert got == fmt
    assert ev.files()["scores.txt"] == text


def test_lvos_on_real_masks(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    src = corpus_path("davis2017-osvos")
    split = tmp_path / "valid"
    meta: dict = {"videos": {}}
    for seq in SEQS:
        names = sorted(p.name for p in (src / seq).iterdir())[:20]
        objs = {}
        for t, n in enumerate(names):
            lab = np.array(Image.open(src / seq / n))
            gen.save_png(split / "Annotations" / seq / f"{5 * t:08d}.png", lab)
            gen.save_png(tmp_path / "res" / seq / f"{5 * t:08d}.png", _fake_pred(lab, t))
            for k in set(np.unique(lab).tolist()) - {0}:
                objs.setdefault(k, [5 * t, 5 * t])[1] = 5 * t
        meta["videos"][seq] = {
            "objects": {
                str(k): {"frame_range": {"start": a, "end": b, "frame_nums": (b - a) // 5 + 1}}
                for k, (a, b) in sorted(objs.items())
            }
        }
    (split / "valid_meta.json").write_text(json.dumps(meta))
    rows, g, gl, per = ref.lvos_evaluate(str(split), "valid", str(tmp_path / "res"), [SEQS[1]])
    ev = evaluate_dataset(split, tmp_path / "res", "lvos", split="valid", unseen=[SEQS[1]])
    for o, r in zip(ev.objects, rows):
        np.testing.assert_allclose(o.J, r[5], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, r[6], rtol=0, atol=1e-12)
    assert abs(ev.global_scores["J&F-Mean"] - g["J&F-Mean"]) <= 1e-12
    assert ev.files()["global_results-valid.csv"] == gl
    assert ev.files()["per-sequence_results-valid.csv"] == per
