"""mose / mosev2 protocols against the step-by-step references (MOSE-api score.py for v2,
davis2017-evaluation for v1) on generated MOSE datasets with small, vanishing and reappearing
objects, portrait videos and both radius branches of the adaptive boundary F."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from dsref import gen, ref
from fastmask._fastmask import EvaluationError
from fastmask.datasets import scores
from fastmask.evaluation._dataset_protocols import evaluate_dataset

pytest.importorskip("fastmask.metrics")


@pytest.fixture(scope="module")
def mose2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mose2")
    stacks = gen.mose(root, "valid", version=2, videos=4, frames=14, size=(120, 200))
    rng = np.random.default_rng(5)
    res = root / "res"
    for vid, lab in stacks.items():
        pred = gen.perturb(rng, lab, int(lab.max()))
        for t, m in enumerate(pred):
            gen.save_png(res / vid / f"{t:05d}.png", m)
    return root, res


def test_mosev2_equals_score_py(mose2: tuple[Path, Path], tmp_path: Path) -> None:
    root, res = mose2
    meta = root / "valid" / "meta.json"
    raw, fmt, text = ref.mosev2_score(str(meta), str(root / "valid" / "Annotations"), str(res))
    ev = evaluate_dataset(root, res, "mosev2", split="valid", threads=2)
    assert {f"{o.sequence}_{o.object}" for o in ev.objects} == set(raw)
    branches = set()
    for o in ev.objects:
        want = raw[f"{o.sequence}_{o.object}"]
        got = [o.stats[k] for k in ("J", "F_new", "F")]
        np.testing.assert_allclose(got, [float(x) for x in want[:3]], rtol=0, atol=1e-12)
        for k, w in zip(("disappear_J", "disappear_F", "reappear_J", "reappear_F"), want[3:]):
            assert (o.stats[k] is None) == (w is None)
            if w is not None:
                assert abs(o.stats[k] - w) < 1e-12
        plain, dot = scores.adaptive_radius(
            np.stack(
                [
                    ref.read(str(root / "valid" / "Annotations" / o.sequence / f"{f}.png"))
                    for f in o.frames
                ]
            )
            == o.object
        )
        branches |= {"adaptive" if d < p else "unrounded" for d, p in zip(dot, plain)}
    assert branches == {"adaptive", "unrounded"}
    files = ev.files()
    got_json = json.loads(files["metrics.json"])
    assert isinstance(got_json.pop("total_time"), float)
    assert got_json == fmt and list(got_json) == list(fmt)
    assert files["scores.txt"] == text
    ev.write(tmp_path)
    assert (tmp_path / "scores.txt").read_text() == text


def test_mosev2_missing_video_scores_zero(mose2: tuple[Path, Path], tmp_path: Path) -> None:
    root, res = mose2
    partial = tmp_path / "res"
    shutil.copytree(res, partial)
    gone = sorted(p.name for p in partial.iterdir())[0]
    shutil.rmtree(partial / gone)
    meta = root / "valid" / "meta.json"
    _, fmt, text = ref.mosev2_score(str(meta), str(root / "valid" / "Annotations"), str(partial))
    ev = evaluate_dataset(root, partial, "mosev2", split="valid")
    got = json.loads(ev.files()["metrics.json"])
    got.pop("total_time")
    assert got == fmt and ev.files()["scores.txt"] == text
    assert any(v["J"] == 0 for v in got.values())
    # a missing frame inside a present folder is an error naming it
    victim = sorted((partial / sorted(p.name for p in partial.iterdir())[0]).iterdir())[3]
    victim.unlink()
    with pytest.raises(EvaluationError, match=victim.name):
        evaluate_dataset(root, partial, "mosev2", split="valid")


def test_mose_v1_is_davis(tmp_path: Path) -> None:
    stacks = gen.mose(tmp_path, "train", version=1, videos=3, frames=10, size=(60, 90))
    rng = np.random.default_rng(9)
    res = tmp_path / "res"
    preds = {}
    for vid, lab in stacks.items():
        preds[vid] = gen.perturb(rng, lab, int(lab.max()))
        for t, m in enumerate(preds[vid]):
            gen.save_png(res / vid / f"{t:05d}.png", m)
    ev = evaluate_dataset(tmp_path, res, "mose", split="train", decay="davis")
    meta = json.loads((tmp_path / "train" / "meta.json").read_text())
    want_rows = []
    for vid in sorted(stacks):
        for k in sorted(int(i) for i in meta["videos"][vid]["objects"]):
            g, p = stacks[vid][1:-1] == k, preds[vid][1:-1] == k
            j = np.array([ref.db_eval_iou(a, b) for a, b in zip(g, p)])
            f = np.array([ref.f_measure(b, a) for a, b in zip(g, p)])
            want_rows.append((f"{vid}_{k}", j, f, ref.db_statistics(j), ref.db_statistics(f)))
    assert [o.name for o in ev.objects] == [r[0] for r in want_rows]
    for o, (_, j, f, js, fs) in zip(ev.objects, want_rows):
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            [o.stats[k] for k in ("J-Mean", "J-Recall", "J-Decay")], js, rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            [o.stats[k] for k in ("F-Mean", "F-Recall", "F-Decay")], fs, rtol=0, atol=1e-12
        )
    files = ev.files()
    assert files["global_results-train.csv"].startswith("J&F-Mean,J-Mean,J-Recall,J-Decay,")
    assert files["per-sequence_results-train.csv"].splitlines()[1].startswith(want_rows[0][0])


def test_decay_reference_and_exact() -> None:
    rng = np.random.default_rng(0)
    for n in (5, 37, 255, 256, 300, 601):
        v = rng.random(n)
        v[rng.random(n) < 0.1] = np.nan
        with np.errstate(all="ignore"):
            want = ref.db_statistics(v)
        got = scores.statistics(v, "davis")
        np.testing.assert_array_equal(np.array(got), np.array(want, dtype=np.float64))
        exact = scores.statistics(v, "exact")
        e = (np.round(np.linspace(1, n, 5) + 1e-10) - 1).astype(int)
        with np.errstate(all="ignore"):
            d = np.nanmean(v[e[0] : e[1] + 1]) - np.nanmean(v[e[3] : e[4] + 1])
        assert exact[2] == d
        if n < 256:
            assert got[2] == exact[2] or (np.isnan(got[2]) and np.isnan(exact[2]))


def test_small_radius_is_refused() -> None:
    g = np.zeros((1, 40, 60), bool)
    g[0, 10:20, 10:30] = True
    with pytest.raises(ValueError, match="below 1"):
        scores.mosev2_boundary(g, g)


def test_mosev2_command_line(mose2: tuple[Path, Path], tmp_path: Path) -> None:
    from fastmask.cli import main

    root, res = mose2
    meta = root / "valid" / "meta.json"
    _, fmt, text = ref.mosev2_score(str(meta), str(root / "valid" / "Annotations"), str(res))
    argv = ["eval", "--protocol", "mosev2", "--gt", str(root), "--results", str(res)]
    argv += ["--split", "valid", "--meta", str(meta), "--output", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    assert (tmp_path / "scores.txt").read_text() == text
    got = json.loads((tmp_path / "metrics.json").read_text())
    got.pop("total_time")
    assert got == fmt
    assert main([*argv, "--allow-missing"]) == 1  # not a score.py behaviour
