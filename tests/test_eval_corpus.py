"""fastmask.evaluate on real masks from the shared corpus (skipped where it is absent).

- DAVIS-2016 ground truth (grayscale 0/255 PNGs) against perturbed copies: davis2016 rules vs the
  test reference, and vos-benchmark (where 255 is an ordinary object id) vs the real package.
- OSVOS DAVIS-2017 masks (palette, widths 854 / 910 / 1152, label gaps as in ``lab-coat``) used as
  ground truth against altered copies (eroded, shifted, objects dropped or relabelled).
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import corpus_path
from evalref import davis as ref
from evalref import vos as vosref
from fastmask.evaluation import evaluate
from PIL import Image
from scipy import ndimage

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)


def alter(rng: np.random.Generator, labels: np.ndarray, t: int) -> np.ndarray:
    """A plausible wrong prediction: per-object erosion / dilation / shift / drop."""
    out = np.zeros_like(labels)
    for k in np.unique(labels):
        if k == 0:
            continue
        m = labels == k
        op = (t + int(k)) % 5
        if op == 0:
            m = ndimage.binary_erosion(m, iterations=3)
        elif op == 1:
            m = ndimage.binary_dilation(m, iterations=2)
        elif op == 2:
            m = np.roll(m, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(0, 1))
        elif op == 3 and k == 2:
            continue  # object 2 missed in this frame
        out[m] = k
    return out


def save_like(src: Path, dst: Path, labels: np.ndarray) -> None:
    img = Image.open(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    new = Image.fromarray(labels.astype(np.uint8))
    if img.mode == "P":
        new.putpalette(img.getpalette())
    new.save(dst)


@pytest.fixture(scope="module")
def davis2016(tmp_path_factory) -> Path:
    src = corpus_path("davis2016", "Annotations", "480p")
    root = tmp_path_factory.mktemp("d16")
    seqs = ["blackswan", "car-shadow"]
    rng = np.random.default_rng(0)
    for s in seqs:
        (root / "DAVIS" / "Annotations" / "480p").mkdir(parents=True, exist_ok=True)
        (root / "DAVIS" / "Annotations" / "480p" / s).symlink_to(src / s)
        for t, p in enumerate(sorted((src / s).glob("*.png"))):
            save_like(p, root / "res" / s / p.name, alter(rng, np.array(Image.open(p)), t))
    (root / "DAVIS" / "ImageSets" / "2016").mkdir(parents=True)
    (root / "DAVIS" / "ImageSets" / "2016" / "val.txt").write_text("\n".join(seqs) + "\n")
    return root


def test_davis2016_corpus(davis2016, tmp_path):
    per_object, metrics_res = ref.evaluate_davis(
        davis2016 / "DAVIS", davis2016 / "res", binary=True
    )
    ev = evaluate(davis2016 / "DAVIS", davis2016 / "res", "davis2016", threads=2)
    assert [o.name for o in ev.objects] == list(per_object)
    for o in ev.objects:
        np.testing.assert_allclose(o.J, per_object[o.name][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, per_object[o.name][1], rtol=0, atol=1e-12)
    ref.write_davis_csv(metrics_res, tmp_path, "val")
    for p in ev.write(tmp_path / "fm"):
        assert p.read_bytes() == (tmp_path / p.name).read_bytes()


def test_vos_benchmark_on_davis2016_gray_masks(davis2016, tmp_path):
    from vos_benchmark.benchmark import benchmark

    gt = davis2016 / "DAVIS" / "Annotations" / "480p"
    pred = tmp_path / "pred"
    shutil.copytree(davis2016 / "res", pred)
    expected = vosref.vos_benchmark_per_frame(gt, pred)
    ev = evaluate(gt, pred, "vos-benchmark")
    assert (
        [(o.sequence, o.object) for o in ev.objects]
        == list(expected)
        == [
            ("blackswan", 255),
            ("car-shadow", 255),
        ]
    )
    for o in ev.objects:
        np.testing.assert_allclose(o.J, expected[(o.sequence, o.object)][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, expected[(o.sequence, o.object)][1], rtol=0, atol=1e-12)
    benchmark([str(gt)], [str(pred)], True, 1, verbose=False)
    ev.write(tmp_path / "fm")
    assert filecmp.cmp(pred / "results.csv", tmp_path / "fm" / "results.csv", shallow=False)


@pytest.fixture(scope="module")
def osvos(tmp_path_factory) -> Path:
    src = corpus_path("davis2017-osvos")
    root = tmp_path_factory.mktemp("osvos")
    seqs = ["bike-packing", "shooting", "lab-coat"]  # 910 wide, 1152 wide, labels {3, 4, 5}
    rng = np.random.default_rng(1)
    for s in seqs:
        for t, p in enumerate(sorted((src / s).glob("*.png"))[:10]):
            shutil.copy(p, gen_path(root / "DAVIS" / "Annotations" / "480p" / s / p.name))
            save_like(p, root / "res" / s / p.name, alter(rng, np.array(Image.open(p)), t))
    (root / "DAVIS" / "ImageSets" / "2017").mkdir(parents=True)
    (root / "DAVIS" / "ImageSets" / "2017" / "val.txt").write_text("\n".join(seqs) + "\n")
    return root


def gen_path(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def test_davis2017_on_osvos_masks(osvos, tmp_path):
    per_object, metrics_res = ref.evaluate_davis(osvos / "DAVIS", osvos / "res")
    ev = evaluate(osvos / "DAVIS", osvos / "res", "davis2017", threads=2)
    assert [o.name for o in ev.objects] == list(per_object)
    assert {o.name for o in ev.objects} >= {"lab-coat_1", "lab-coat_5", "shooting_3"}
    for o in ev.objects:
        np.testing.assert_allclose(o.J, per_object[o.name][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, per_object[o.name][1], rtol=0, atol=1e-12)
    ref.write_davis_csv(metrics_res, tmp_path, "val")
    for p in ev.write(tmp_path / "fm"):
        assert p.read_bytes() == (tmp_path / p.name).read_bytes()


def test_vos_benchmark_on_osvos_masks(osvos, tmp_path):
    from vos_benchmark.benchmark import benchmark

    gt = osvos / "DAVIS" / "Annotations" / "480p"
    pred = tmp_path / "pred"
    shutil.copytree(osvos / "res", pred)
    expected = vosref.vos_benchmark_per_frame(gt, pred)
    ev = evaluate(gt, pred, "vos-benchmark", threads=2)
    assert [(o.sequence, o.object) for o in ev.objects] == list(expected)
    for o in ev.objects:
        np.testing.assert_allclose(o.J, expected[(o.sequence, o.object)][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, expected[(o.sequence, o.object)][1], rtol=0, atol=1e-12)
    benchmark([str(gt)], [str(pred)], True, 1, verbose=False)
    ev.write(tmp_path / "fm")
    assert filecmp.cmp(pred / "results.csv", tmp_path / "fm" / "results.csv", shallow=False)
