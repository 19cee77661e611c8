"""lvos protocol against the step-by-step lvos-evaluation reference on generated LVOS splits:
per-object frame ranges, every 5th frame, a 300+ frame video, a range shorter than frame_nums
(slots left at 0), seen / unseen videos, and the two CSV files byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dsref import gen, ref
from fastmask._fastmask import EvaluationError
from fastmask.evaluation._dataset_protocols import evaluate_dataset

pytest.importorskip("fastmask.metrics")
pytest.importorskip("pandas")


def _predict(root: Path, stacks: dict[str, np.ndarray], seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    res = root / "res"
    for vid, lab in stacks.items():
        pred = gen.perturb(rng, lab, int(lab.max()))
        for t in range(0, len(lab), 5):
            gen.save_png(res / vid / f"{t:08d}.png", pred[t])
    return res


@pytest.fixture(scope="module")
def lvos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("lvos")
    stacks = gen.lvos(root, "valid", videos=3, frames=60)
    long = gen.lvos(root / "long", "valid", videos=1, frames=1400, size=(24, 32), seed=8)
    # merge the long video (280 annotated frames, 1400 frame numbers) into the split
    meta = json.loads((root / "valid" / "valid_meta.json").read_text())
    long_meta = json.loads((root / "long" / "valid" / "valid_meta.json").read_text())
    (root / "long" / "valid" / "Annotations" / "lvos00").rename(
        root / "valid" / "Annotations" / "lvos99"
    )
    meta["videos"]["lvos99"] = long_meta["videos"]["lvos00"]
    stacks["lvos99"] = long["lvos00"]
    # a range that reaches fewer frames than frame_nums: the last slots stay 0
    first = meta["videos"]["lvos00"]["objects"]["1"]["frame_range"]
    first["frame_nums"] += 2
    (root / "valid" / "valid_meta.json").write_text(json.dumps(meta))
    return root, _predict(root, stacks)


def test_lvos_equals_reference(lvos: tuple[Path, Path], tmp_path: Path) -> None:
    root, res = lvos
    split = root / "valid"
    rows, g, gl, per = ref.lvos_evaluate(str(split), "valid", str(res), ["lvos01"])
    ev = evaluate_dataset(split, res, "lvos", split="valid", threads=2)
    assert [o.name for o in ev.objects] == [r[0] for r in rows]
    assert max(len(o.J) for o in ev.objects) >= 256  # a long object
    assert any(o.J[-1] == 0 and o.F[-1] == 0 for o in ev.objects)  # unreached slots
    for o, (_, jm, fm, vm, seen, j, f) in zip(ev.objects, rows):
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
        assert abs(o.stats["J-Mean"] - jm) <= 1e-12 and abs(o.stats["F-Mean"] - fm) <= 1e-12
        assert abs(o.stats["V-Mean"] - vm) <= 1e-12
        assert o.info["seen"] == seen
    for k, v in g.items():
        assert abs(ev.global_scores[k] - v) <= 1e-12, k
    files = ev.files()
    assert files["global_results-valid.csv"] == gl
    assert files["per-sequence_results-valid.csv"] == per
    ev.write(tmp_path)
    assert (tmp_path / "global_results-valid.csv").read_text() == gl


def test_lvos_decay_options(lvos: tuple[Path, Path]) -> None:
    root, res = lvos
    long = next(
        o
        for o in evaluate_dataset(root / "valid", res, "lvos", split="valid", decay="exact").objects
        if len(o.J) >= 256
    )
    e = (np.round(np.linspace(1, len(long.J), 5) + 1e-10) - 1).astype(int)
    want = np.nanmean(long.J[e[0] : e[1] + 1]) - np.nanmean(long.J[e[3] : e[4] + 1])
    assert long.stats["J-Decay"] == want
    davis = next(
        o
        for o in evaluate_dataset(root / "valid", res, "lvos", split="valid", decay="davis").objects
        if o.name == long.name
    )
    with np.errstate(all="ignore"):
        assert davis.stats["J-Decay"] == ref.db_statistics(long.J)[2] or np.isnan(
            davis.stats["J-Decay"]
        )


def test_lvos_errors(lvos: tuple[Path, Path], tmp_path: Path) -> None:
    root, res = lvos
    split = root / "valid"
    (split / "unseen_videos.txt").rename(tmp_path / "unseen.txt")
    try:
        with pytest.raises(EvaluationError, match=r"unseen_videos\.txt not found"):
            evaluate_dataset(split, res, "lvos", split="valid")
        ev = evaluate_dataset(split, res, "lvos", split="valid", unseen=[])
        assert np.isnan(ev.global_scores["J-unseen-Mean"])
        assert ev.files()["global_results-valid.csv"].splitlines()[1].startswith(",")
    finally:
        (tmp_path / "unseen.txt").rename(split / "unseen_videos.txt")
    victim = sorted((res / "lvos00").iterdir())[2]
    data = victim.read_bytes()
    victim.unlink()
    try:
        with pytest.raises(EvaluationError, match=victim.name):
            evaluate_dataset(split, res, "lvos", split="valid")
        ev = evaluate_dataset(split, res, "lvos", split="valid", allow_missing=True)
        assert ev.missing == 1
    finally:
        victim.write_bytes(data)


def test_lvos_through_evaluate_and_cli(lvos: tuple[Path, Path], tmp_path: Path) -> None:
    import fastmask
    from fastmask.cli import main

    root, res = lvos
    split = root / "valid"
    _, _, gl, per = ref.lvos_evaluate(str(split), "valid", str(res), ["lvos01"])
    ev = fastmask.evaluate(split, res, "lvos", split="valid")
    assert ev.files()["global_results-valid.csv"] == gl
    argv = ["eval", "--protocol", "lvos", "--gt", str(split), "--results", str(res)]
    argv += ["--split", "valid", "--output", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    assert (tmp_path / "global_results-valid.csv").read_text() == gl
    assert (tmp_path / "per-sequence_results-valid.csv").read_text() == per
    with pytest.raises(ValueError, match="semi-supervised"):
        fastmask.evaluate(split, res, "lvos", task="unsupervised")
    with pytest.raises(TypeError, match="unexpected options"):
        fastmask.evaluate(split, res, "davis2017", split="valid")


def test_lvos_reports_progress_per_video(lvos: tuple[Path, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    import fastmask

    root, res = lvos
    split = root / "valid"
    calls: list[tuple[int, int]] = []
    ev = fastmask.evaluate(
        split, res, "lvos", split="valid", progress=lambda d, t: calls.append((d, t))
    )
    n = ev.n_sequences
    assert n >= 1
    assert calls == [(i, n) for i in range(1, n + 1)]
    # progress=True draws a tqdm bar on stderr and gives the same numbers.
    bar = fastmask.evaluate(split, res, "lvos", split="valid", progress=True)
    assert "fastmask eval lvos" in capsys.readouterr().err
    assert bar.files() == ev.files()
