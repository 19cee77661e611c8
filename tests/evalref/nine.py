"""A small generated dataset for each of the nine protocols, with perturbed results:
``cases(root)`` -> ``{protocol: (gt, results, options)}`` for ``fastmask.evaluate``. The
pipeline and executor tests run every protocol on these (numbers and files must not depend
on how the jobs are run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from dsref import gen as dsgen

from evalref import gen

Case = tuple[Path, Path, dict[str, Any]]

# The keys of ``cases()``, in order: the nine protocols plus DAVIS-2017's unsupervised task.
CASES = [
    "davis2017",
    "davis2017-unsupervised",
    "davis2016",
    "vos-benchmark",
    "sav",
    "youtube-vos",
    "mose",
    "mosev2",
    "lvos",
    "sparse",
]


def cases(root: Path) -> dict[str, Case]:
    rng = np.random.default_rng(11)
    out: dict[str, Case] = {}
    davis = {
        "alpha": gen.make_sequence(rng, 30, 47, 6, ["always", "late"]),
        "beta": gen.make_sequence(rng, 24, 33, 5, ["always", "reappear"], void_ring=1),
        "gamma": gen.make_sequence(rng, 28, 40, 7, ["always", "vanish", "late"]),
    }
    gen.write_davis(root / "DAVIS", davis)
    gen.write_davis(root / "DAVIS", davis, annotations="Annotations_unsupervised")
    gen.write_results(root / "semi", gen.semi_results(davis))
    gen.write_results(root / "unsup", gen.proposal_results(davis))
    gen.write_results(root / "vosres", gen.vos_results(davis))
    out["davis2017"] = (root / "DAVIS", root / "semi", {})
    out["davis2017-unsupervised"] = (root / "DAVIS", root / "unsup", {"task": "unsupervised"})
    binary = {k: ((v != 0) & (v != 255)).astype(np.uint8) * 255 for k, v in davis.items()}
    gen.write_davis(root / "DAVIS16", binary, year="2016", palette=False)
    out["davis2016"] = (root / "DAVIS16", root / "semi", {})
    out["vos-benchmark"] = (root / "DAVIS" / "Annotations" / "480p", root / "vosres", {})
    sav = {
        f"v{i}": {f"{k:03d}": (davis[n] == k + 1).astype(np.uint8) for k in range(2)}
        for i, n in enumerate(["alpha", "gamma"])
    }
    gen.write_sav(root / "sav_gt", sav)
    sav_res = {
        v: {o: gen.perturb(rng, m, [1], drop=False) for o, m in objs.items()}
        for v, objs in sav.items()
    }
    gen.write_sav(root / "sav_res", sav_res)
    out["sav"] = (root / "sav_gt", root / "sav_res", {})

    yt = dsgen.youtube_vos(root / "yt", "train", videos=3, frames=26, size=(32, 48), images=False)
    dsgen.predictions(
        root / "yt_res", {v: ([f"{5 * i:05d}" for i in range(len(s))], s) for v, s in yt.items()}
    )
    out["youtube-vos"] = (root / "yt", root / "yt_res", {"split": "train", "seen": ["dog"]})
    m1 = dsgen.mose(root / "mose1", "valid", version=1, videos=3, frames=8, size=(40, 60))
    dsgen.predictions(
        root / "mose1_res", {v: ([f"{t:05d}" for t in range(len(s))], s) for v, s in m1.items()}
    )
    out["mose"] = (root / "mose1", root / "mose1_res", {"split": "valid"})
    m2 = dsgen.mose(root / "mose2", "valid", version=2, videos=3, frames=8, size=(96, 128))
    dsgen.predictions(
        root / "mose2_res",
        {v: ([f"{t:05d}" for t in range(len(s))], s) for v, s in list(m2.items())[:2]},
    )  # the third video has no result folder: it scores 0
    out["mosev2"] = (root / "mose2", root / "mose2_res", {"split": "valid"})
    lv = dsgen.lvos(root / "lvos", "valid", videos=3, frames=40)
    dsgen.predictions(
        root / "lvos_res",
        {v: ([f"{t:08d}" for t in range(0, len(s), 5)], s[::5]) for v, s in lv.items()},
    )
    out["lvos"] = (root / "lvos" / "valid", root / "lvos_res", {"split": "valid"})
    sp = dsgen.davis_sparse(root / "sparse", videos=2, frames=30, count=8)
    dsgen.predictions(root / "sparse_res", sp)
    out["sparse"] = (root / "sparse", root / "sparse_res", {"objects": "all"})
    return out


def protocol_of(case: str) -> str:
    return case.split("-unsupervised")[0]


def comparable_files(ev: Any) -> dict[str, Any]:
    """``ev.files()`` with what legitimately differs between two runs taken out: the run time
    mosev2 writes into ``metrics.json``."""
    files: dict[str, Any] = dict(ev.files())
    if "metrics.json" in files:
        doc = json.loads(files["metrics.json"])
        doc.pop("total_time")
        files["metrics.json"] = doc
    return files


def assert_same(a: Any, b: Any) -> None:
    """Two evaluations agree: the same files (``comparable_files``), per-frame scores, global
    scores (same keys in order; equal, or both NaN; and the same JSON text), counts and
    objects."""
    assert comparable_files(a) == comparable_files(b)
    assert a.per_frame() == b.per_frame()
    ga, gb = a.global_scores, b.global_scores
    assert list(ga) == list(gb)
    assert all(ga[k] == gb[k] or (ga[k] != ga[k] and gb[k] != gb[k]) for k in ga)
    assert json.dumps(ga) == json.dumps(gb)
    assert (a.n_sequences, a.n_frames, a.missing) == (b.n_sequences, b.n_frames, b.missing)
    assert a.per_object().keys() == b.per_object().keys()
