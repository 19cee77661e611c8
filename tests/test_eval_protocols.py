"""fastmask.evaluate against the reference tools on generated datasets with the awkward cases:
objects that appear late, vanish, come back, id gaps, void rings, false positives, widths 910 and
1152. Per-object per-frame J and F must equal the references to 1e-12 and the written files must
be byte-identical to what the tools write (vos-benchmark: the real package's ``benchmark()``)."""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

import fastmask
import numpy as np
import pytest
from evalref import davis as ref
from evalref import engine as model
from evalref import gen
from evalref import vos as vosref
from fastmask.evaluation import _engine, evaluate
from fastmask.metrics import statistics

ENGINES = ["rust"]
if os.environ.get("FASTMASK_EVAL_MODEL"):
    # Development aid: run the protocol rules on the numpy model of the engine.
    ENGINES = ["model"]


@pytest.fixture(params=ENGINES, autouse=True)
def engine(request, monkeypatch):
    if request.param == "model":
        monkeypatch.setattr(_engine, "_fastmask", model.FakeModule(_engine._fastmask))
    elif not hasattr(fastmask._fastmask, "_eval_sequences"):
        pytest.skip("compiled evaluation engine not built")
    return request.param


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("evaldata")
    gt = gen.edge_case_gt()
    gen.write_davis(root / "DAVIS", gt)
    gen.write_davis(root / "DAVIS", gt, annotations="Annotations_unsupervised")
    gen.write_results(root / "semi", gen.semi_results(gt))
    gen.write_results(root / "unsup", gen.proposal_results(gt))
    gen.write_results(root / "vos", gen.vos_results(gt))
    binary = {k: (v != 0) & (v != 255) for k, v in gt.items()}
    gen.write_davis(
        root / "DAVIS16",
        {k: v.astype(np.uint8) * 255 for k, v in binary.items()},
        year="2016",
        palette=False,
    )
    rng = np.random.default_rng(5)
    gen.write_results(
        root / "res16", {k: gen.perturb(rng, v.astype(np.uint8), [1]) for k, v in binary.items()}
    )
    return root


def assert_same_objects(ev, expected: dict) -> None:
    assert [o.name for o in ev.objects] == list(expected)
    for o in ev.objects:
        j, f = expected[o.name]
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)


def assert_same_files(a: Path, b: Path, names: list[str]) -> None:
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


@pytest.mark.parametrize("task", ["semi-supervised", "unsupervised"])
def test_davis2017_matches_reference(data, tmp_path, task):
    results = data / ("semi" if task == "semi-supervised" else "unsup")
    per_object, metrics_res = ref.evaluate_davis(data / "DAVIS", results, task=task)
    ev = evaluate(data / "DAVIS", results, "davis2017", task=task, threads=2)
    assert_same_objects(ev, per_object)
    ref.write_davis_csv(metrics_res, tmp_path, "val")
    written = ev.write(tmp_path / "fm")
    assert_same_files(tmp_path, tmp_path / "fm", [p.name for p in written])
    assert len(written) == 2
    assert ev.global_scores["J-Mean"] == np.mean(metrics_res["J"]["M"])


def test_davis2016_binary_gray_ground_truth(data, tmp_path):
    per_object, metrics_res = ref.evaluate_davis(data / "DAVIS16", data / "res16", binary=True)
    ev = evaluate(data / "DAVIS16", data / "res16", "davis2016")
    assert_same_objects(ev, per_object)
    ref.write_davis_csv(metrics_res, tmp_path, "val")
    written = ev.write(tmp_path / "fm")
    assert_same_files(tmp_path, tmp_path / "fm", [p.name for p in written])


@pytest.mark.parametrize("skip", [True, False])
def test_vos_benchmark_matches_the_real_package(data, tmp_path, skip):
    from vos_benchmark.benchmark import benchmark

    gt = data / "DAVIS" / "Annotations" / "480p"
    pred = tmp_path / "pred"
    shutil.copytree(data / "vos", pred)
    expected = vosref.vos_benchmark_per_frame(gt, pred, skip_first_and_last=skip)
    ev = evaluate(gt, pred, "vos-benchmark", skip_first_and_last=skip)
    assert [(o.sequence, o.object) for o in ev.objects] == list(expected)
    for o in ev.objects:
        j, f = expected[(o.sequence, o.object)]
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
    # The package writes results.csv into the prediction folder.
    benchmark([str(gt)], [str(pred)], True, 1, verbose=False, skip_first_and_last=skip)
    ev.write(tmp_path / "fm")
    assert filecmp.cmp(pred / "results.csv", tmp_path / "fm" / "results.csv", shallow=False)


def test_vos_benchmark_differs_from_davis_on_reappearing_objects(data):
    """Same masks, two rules: an object absent in both masks scores 1 in vos-benchmark only after
    its first sighting, and labels absent from the first frame are objects there, not in DAVIS."""
    gt = data / "DAVIS" / "Annotations" / "480p"
    ev_vos = evaluate(gt, data / "semi", "vos-benchmark", sequences=["late-only"])
    ev_davis = evaluate(data / "DAVIS", data / "semi", "davis2017", sequences=["late-only"])
    assert {o.object for o in ev_vos.objects} >= {o.object for o in ev_davis.objects}
    assert any(len(o.J) < len(ev_davis.objects[0].J) for o in ev_vos.objects) or len(
        ev_vos.objects
    ) != len(ev_davis.objects)


def test_sav_layout_matches_reference(tmp_path):
    rng = np.random.default_rng(11)
    videos_gt: dict[str, dict[str, np.ndarray]] = {}
    videos_pred: dict[str, dict[str, np.ndarray]] = {}
    for v, (h, w, t) in {"sav_000001": (36, 64, 7), "sav_000002": (40, 91, 6)}.items():
        stack = gen.make_sequence(rng, h, w, t, ["always", "late", "reappear"])
        # Overlapping objects: each object's own mask, not the painted label map.
        objs = {f"{k - 1:03d}": (stack == k) | (rng.random(stack.shape) < 0.002) for k in (1, 2, 3)}
        videos_gt[v] = objs
        videos_pred[v] = {o: gen.perturb(rng, m.astype(np.uint8), [1]) for o, m in objs.items()}
    gen.write_sav(tmp_path / "gt", videos_gt)
    gen.write_sav(tmp_path / "pred", videos_pred)
    # A video in the DAVIS-like layout inside an SA-V root is scored like vos-benchmark.
    stack = gen.make_sequence(rng, 30, 50, 5, ["always", "late"])
    gen.write_frames(tmp_path / "gt" / "davis_like", stack)
    gen.write_frames(tmp_path / "pred" / "davis_like", gen.perturb(rng, stack, [1, 2]))
    expected = vosref.sav_per_frame(tmp_path / "gt", tmp_path / "pred")
    ev = evaluate(tmp_path / "gt", tmp_path / "pred", "sav")
    assert [(o.sequence, o.object) for o in ev.objects] == list(expected)
    for o in ev.objects:
        j, f = expected[(o.sequence, o.object)]
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
    assert ev.files()["results.csv"] == vosref.results_csv(expected)


@pytest.mark.parametrize("n", [1, 2, 5, 17, 255, 256, 300, 700])
def test_statistics_reference_and_corrected_decay(n):
    values = np.random.default_rng(n).random(n)
    np.testing.assert_array_equal(statistics(values, decay="davis"), ref.statistics(values))
    if n < 256:
        assert statistics(values, decay="exact") == statistics(values, decay="davis")
    q = np.round(np.linspace(1, n, 5) + 1e-10).astype(int) - 1
    expected = values[q[0] : q[1] + 1].mean() - values[q[3] : q[4] + 1].mean()
    assert statistics(values, decay="exact")[2] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "rule",
    [
        dict(dynamic=False, cross=False, void=None, binarize=False),
        dict(dynamic=True, cross=False, void=None, binarize=False),
        dict(dynamic=False, cross=True, void=255, binarize=False),
        dict(dynamic=True, cross=False, void=None, binarize=True),
        dict(dynamic=True, cross=False, void=255, binarize=False),
    ],
)
def test_engine_contract_matches_numpy_model(data, engine, rule):
    """The compiled engine's raw output (pairs, NaN pattern, presence, J, F) equals the model's."""
    if engine != "rust":
        pytest.skip("compares the compiled engine with the model")
    ann = data / "DAVIS" / "Annotations" / "480p"
    seqs = ["vanish-reappear", "id-gap", "late-only"]
    gt = [sorted(str(p) for p in (ann / s).glob("*.png")) for s in seqs]
    pred = [[str(data / "unsup" / s / os.path.basename(p)) for p in g] for s, g in zip(seqs, gt)]
    pred[1][2] = None  # a missing result frame: an empty mask
    args = (gt, pred, [[1, 2, 3], [1, 3], []], [255, 255, 255])
    kw = dict(rule, same_size=True, bound_th=0.008, threads=2)
    got, stages = fastmask._fastmask._eval_sequences(*args, **kw)
    want, _ = model.eval_sequences(*args, **kw)
    assert set(stages) == {"decode", "J", "F"}
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
