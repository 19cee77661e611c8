"""youtube-vos and sparse protocols against plain per-object loops over the official DAVIS J and F
(davis2017-evaluation steps), on generated sets with late objects, every-5th-frame annotations,
sparse annotations (~35 frames per phone video, or 5 fps) and portrait videos."""

from __future__ import annotations

import json
from pathlib import Path

import fastmask
import numpy as np
import pytest
from dsref import gen, ref
from fastmask._fastmask import EvaluationError
from fastmask.evaluation._dataset_protocols import evaluate_dataset
from PIL import Image

pytest.importorskip("fastmask.metrics")


def _write_preds(res: Path, names: dict[str, list[str]], stacks: dict[str, np.ndarray]) -> dict:
    rng = np.random.default_rng(3)
    out = {}
    for vid, lab in stacks.items():
        pred = gen.perturb(rng, lab, max(int(lab[lab != 255].max()), 1))
        for n, m in zip(names[vid], pred):
            gen.save_png(res / vid / f"{n}.png", m)
        out[vid] = pred
    return out


def test_youtube_vos_equals_reference(tmp_path: Path) -> None:
    stacks = gen.youtube_vos(tmp_path, "train", videos=5, frames=45, size=(40, 64))
    names = {v: [f"{5 * i:05d}" for i in range(len(s))] for v, s in stacks.items()}
    preds = _write_preds(tmp_path / "res", names, stacks)
    meta = json.loads((tmp_path / "train" / "meta.json").read_text())
    seen = ["person", "dog"]
    ev = evaluate_dataset(tmp_path, tmp_path / "res", "youtube-vos", split="train", seen=seen)
    want = {}
    for vid in sorted(stacks):
        for key, o in meta["videos"][vid]["objects"].items():
            k = int(key)
            first = o["frames"][0]
            idx = [i for i, n in enumerate(names[vid]) if n > first]
            g, p = stacks[vid][idx] == k, preds[vid][idx] == k
            j = np.array([ref.db_eval_iou(a, b) for a, b in zip(g, p)])
            f = np.array([ref.f_measure(b, a) for a, b in zip(g, p)])
            want[(vid, k)] = (j, f, o["category"] in seen, first)
    assert sorted((o.sequence, o.object) for o in ev.objects) == sorted(want)
    assert any(w[3] != "00000" for w in want.values())  # late objects
    groups: dict[bool, list] = {True: [], False: []}
    for o in ev.objects:
        j, f, is_seen, _ = want[(o.sequence, o.object)]
        np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
        np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
        assert o.info["seen"] == is_seen
        groups[is_seen].append((np.mean(j), np.mean(f)))
    js, fs = np.mean([a for a, _ in groups[True]]), np.mean([b for _, b in groups[True]])
    ju, fu = np.mean([a for a, _ in groups[False]]), np.mean([b for _, b in groups[False]])
    g = ev.global_scores
    np.testing.assert_allclose(
        [g["J_seen"], g["F_seen"], g["J_unseen"], g["F_unseen"], g["Overall"]],
        [js, fs, ju, fu, (js + fs + ju + fu) / 4],
        rtol=0,
        atol=1e-12,
    )
    cols = ev.per_object()
    assert cols["name"] == [o.name for o in ev.objects] and len(cols["category"]) == len(want)
    assert ev.n_sequences == len(stacks) and "Overall" in ev.report()
    text = ev.files()["global_results.csv"]
    assert text.splitlines()[0] == "Overall,J_seen,F_seen,J_unseen,F_unseen"
    # seen categories may come from another split's meta.json
    train_meta = tmp_path / "other.json"
    videos = {f"v{i}": {"objects": {"1": {"category": c}}} for i, c in enumerate(seen)}
    train_meta.write_text(json.dumps({"videos": videos}))
    ev2 = evaluate_dataset(tmp_path, tmp_path / "res", "youtube-vos", seen=train_meta)
    assert ev2.global_scores == g
    # without a seen list every object is seen: Overall is the mean of J_seen and F_seen
    ev3 = evaluate_dataset(tmp_path, tmp_path / "res", "youtube-vos")
    g3 = ev3.global_scores
    assert np.isnan(g3["J_unseen"]) and g3["Overall"] == (g3["J_seen"] + g3["F_seen"]) / 2


@pytest.mark.parametrize("sparse", [{"count": 35}, {"every": 6, "count": None}])
@pytest.mark.parametrize("objects", ["first-frame", "all"])
def test_sparse_equals_reference(tmp_path: Path, sparse: dict, objects: str) -> None:
    truth = gen.davis_sparse(tmp_path, frames=120, **sparse)
    names = {v: n for v, (n, _) in truth.items()}
    stacks = {v: s for v, (_, s) in truth.items()}
    preds = _write_preds(tmp_path / "res", names, stacks)
    ev = evaluate_dataset(tmp_path, tmp_path / "res", "sparse", objects=objects, decay="davis")
    got = {(o.sequence, o.object): o for o in ev.objects}
    n_want = 0
    for vid, (ann, lab) in truth.items():
        n = int(lab[0].max())
        ids = range(1, n + 1) if objects == "first-frame" else sorted(set(np.unique(lab)) - {0})
        for k in ids:
            first = next(i for i in range(len(lab)) if (lab[i] == k).any())
            first = 0 if objects == "first-frame" else first
            g, p = lab[first + 1 :] == k, preds[vid][first + 1 :] == k
            j = np.array([ref.db_eval_iou(a, b) for a, b in zip(g, p)])
            f = np.array([ref.f_measure(b, a) for a, b in zip(g, p)])
            o = got[(vid, int(k))]
            assert o.frames == ann[first + 1 :]
            np.testing.assert_allclose(o.J, j, rtol=0, atol=1e-12)
            np.testing.assert_allclose(o.F, f, rtol=0, atol=1e-12)
            np.testing.assert_allclose(
                [o.stats["J-Mean"], o.stats["J-Recall"], o.stats["J-Decay"]],
                ref.db_statistics(j),
                rtol=0,
                atol=1e-12,
            )
            n_want += 1
    assert len(ev.objects) == n_want
    assert any(s.shape[1] > s.shape[2] for s in stacks.values())  # portrait videos


def test_sparse_ignores_extra_frames_and_names_rotation(tmp_path: Path) -> None:
    truth = gen.davis_sparse(tmp_path, videos=1, frames=30, count=6)
    ((vid, (ann, lab)),) = truth.items()
    res = tmp_path / "res"
    for t in range(30):  # a prediction for every frame: only annotated ones are read
        gen.save_png(res / vid / f"{t:05d}.png", lab[min(t // 5, len(lab) - 1)])
    ev = evaluate_dataset(tmp_path, res, "sparse", skip_first=False)
    assert all(len(o.frames) == len(ann) for o in ev.objects if o.object == 1)
    rotated = np.ascontiguousarray(lab[2].T)
    Image.fromarray(rotated, "P").save(res / vid / f"{ann[2]}.png")
    with pytest.raises(EvaluationError, match="rotated"):
        evaluate_dataset(tmp_path, res, "sparse")
    (res / vid / f"{ann[2]}.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(fastmask.PngError, match=f"{ann[2]}.png"):
        evaluate_dataset(tmp_path, res, "sparse")


def test_command_line_options(tmp_path: Path) -> None:
    import argparse

    from fastmask.evaluation._dataset_protocols import add_arguments, options_from_args

    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int)
    p.add_argument("--allow-missing", action="store_true")
    p.add_argument("--set", dest="subset", default="val")
    p.add_argument("--resolution", default="480p")
    add_arguments(p)
    args = p.parse_args(["--split", "train", "--seen", "person,dog", "--threads", "2"])
    assert options_from_args("youtube-vos", args) == {"split": "train", "seen": ["person", "dog"]}
    assert options_from_args("davis2017", args) == {}
    args = p.parse_args(["--objects", "all", "--keep-first", "--decay", "davis"])
    opts = options_from_args("sparse", args)
    assert opts == {"objects": "all", "skip_first": False, "decay": "davis"}
    gen.davis_sparse(tmp_path, videos=1, frames=20, count=5)
    res = tmp_path / "Annotations" / "480p"
    ev = evaluate_dataset(tmp_path, res, "sparse", **opts)
    assert ev.global_scores["J&F-Mean"] == 1.0  # ground truth scored against itself


def test_youtube_vos_objects_listed_without_frames(tmp_path: Path) -> None:
    # The generator lists exactly the frames where each object is present, so an object whose
    # list is emptied must get the same first frame from the masks, and the same scores.
    stacks = gen.youtube_vos(tmp_path, "train", videos=3, frames=30, size=(32, 48))
    names = {v: [f"{5 * i:05d}" for i in range(len(s))] for v, s in stacks.items()}
    _write_preds(tmp_path / "res", names, stacks)
    full = evaluate_dataset(tmp_path, tmp_path / "res", "youtube-vos", split="train")
    meta_path = tmp_path / "train" / "meta.json"
    meta = json.loads(meta_path.read_text())
    cleared = 0
    for video in meta["videos"].values():
        for o in video["objects"].values():
            if o["frames"] and o["frames"][0] != "00000":  # late objects: the hard case
                o["frames"] = []
                cleared += 1
    assert cleared >= 1
    meta_path.write_text(json.dumps(meta))
    derived = evaluate_dataset(tmp_path, tmp_path / "res", "youtube-vos", split="train")
    assert [(o.sequence, o.object) for o in derived.objects] == [
        (o.sequence, o.object) for o in full.objects
    ]
    for a, b in zip(derived.objects, full.objects):
        np.testing.assert_array_equal(a.J, b.J)
        np.testing.assert_array_equal(a.F, b.F)
