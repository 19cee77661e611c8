"""The evaluation pipeline: plan -> picklable jobs -> partial results -> merge, for all nine
protocols; the options each job carries (max_pixels), threads, empty sequence lists, file
permissions, Ctrl-C, and the command line's subset / extra-output flags."""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import fastmask
import numpy as np
import pytest
from evalref import gen, nine
from fastmask import EvaluationError
from fastmask.evaluation import plan, run, run_job
from fastmask.evaluation.cli import main

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)


@pytest.mark.parametrize("case", nine.CASES)
def test_jobs_and_partials_pickle_and_merge_in_any_order(nine_cases, case):
    gt, res, opts = nine_cases[case]
    protocol = nine.protocol_of(case)
    whole = fastmask.evaluate(gt, res, protocol, **opts)
    p = plan(gt, res, protocol, **opts)
    assert [j.index for j in p.jobs] == list(range(len(p.jobs)))
    # Every job and partial goes through the standard pickle: a worker gets all it needs.
    jobs = [pickle.loads(pickle.dumps(j)) for j in p.jobs]
    partials = [pickle.loads(pickle.dumps(run_job(j))) for j in jobs]
    random.Random(5).shuffle(partials)
    merged = pickle.loads(pickle.dumps(p)).merge(partials)
    nine.assert_same(whole, merged)
    nine.assert_same(whole, pickle.loads(pickle.dumps(whole)))  # the result pickles too
    assert merged.protocol == protocol and merged.options == whole.options
    # per_frame: one row per object and scored frame, values from the object's series.
    table = merged.per_frame()
    assert list(table) == ["sequence", "object", "frame", "J", "F"]
    rows = {(s, o, f): (j, fv) for s, o, f, j, fv in zip(*table.values())}
    for o in merged.objects:
        index = o.frame_index if o.frame_index is not None else range(len(o.frames))
        for frame, i in zip(o.frames, index):
            if i < len(o.J):  # a mosev2 video without results has no per-frame scores
                assert rows.pop((o.sequence, o.object, frame)) == (float(o.J[i]), float(o.F[i]))
    assert not rows
    with pytest.raises(ValueError, match="no partial result"):
        p.merge(partials[1:])
    with pytest.raises(ValueError, match="twice"):
        p.merge([*partials, partials[0]])


def test_process_pool_gives_the_same_files(nine_cases, tmp_path):
    gt, res, opts = nine_cases["davis2017"]
    whole = fastmask.evaluate(gt, res, threads=1)
    with ProcessPoolExecutor(2) as pool:
        ev = run(plan(gt, res, **opts), pool, batch_size=1)
    nine.assert_same(whole, ev)
    a, b = whole.write(tmp_path / "a"), ev.write(tmp_path / "b")
    assert [x.read_bytes() for x in a] == [y.read_bytes() for y in b]


@pytest.mark.parametrize("case", ["davis2017", "sav", "youtube-vos", "mosev2", "lvos", "sparse"])
def test_max_pixels_travels_in_every_job(tmp_path, case):
    """A limit of 1,000 pixels refuses 100 x 100 frames, in the engine and in the protocols'
    own decodes, whether given as max_pixels= or by set_max_pixels before planning."""
    root = tmp_path / "d"
    gt, res, opts = _big_frames(root, case)
    protocol = nine.protocol_of(case)
    fastmask.evaluate(gt, res, protocol, **opts)  # the default limit accepts them
    with pytest.raises(fastmask.PngError, match="exceeds the limit of 1000 pixels"):
        fastmask.evaluate(gt, res, protocol, max_pixels=1000, **opts)
    before = fastmask.get_max_pixels()
    fastmask.set_max_pixels(1000)
    try:
        p = plan(gt, res, protocol, **opts)
    finally:
        fastmask.set_max_pixels(before)
    assert all(j.settings.max_pixels == 1000 for j in p.jobs)
    # The job carries the limit: a worker with the default global still refuses.
    with pytest.raises(fastmask.PngError, match="exceeds the limit of 1000 pixels"):
        run_job(pickle.loads(pickle.dumps(p.jobs[0])))
    assert plan(gt, res, protocol, max_pixels=10_000, **opts).jobs[0].settings.max_pixels == 10_000


def _big_frames(root: Path, case: str) -> nine.Case:
    """One 100 x 100 video in the layout of ``case``."""
    from dsref import gen as dsgen

    rng = np.random.default_rng(4)
    if case == "davis2017":
        seq = {"v": gen.make_sequence(rng, 100, 100, 4, ["always"])}
        gen.write_davis(root / "DAVIS", seq)
        gen.write_results(root / "res", seq)
        return root / "DAVIS", root / "res", {}
    if case == "sav":
        m = gen.make_sequence(rng, 100, 100, 4, ["always"])
        gen.write_sav(root / "gt", {"v": {"000": m}})
        gen.write_sav(root / "res", {"v": {"000": m}})
        return root / "gt", root / "res", {}
    if case == "youtube-vos":
        s = dsgen.youtube_vos(root, "train", videos=1, frames=11, size=(100, 100), images=False)
        dsgen.predictions(
            root / "res", {v: ([f"{5 * i:05d}" for i in range(3)], x) for v, x in s.items()}
        )
        return root, root / "res", {"split": "train"}
    if case == "mosev2":
        s = dsgen.mose(root, "valid", version=2, videos=1, frames=4, size=(100, 100))
        dsgen.predictions(
            root / "res", {v: ([f"{t:05d}" for t in range(4)], x) for v, x in s.items()}
        )
        return root, root / "res", {"split": "valid"}
    if case == "lvos":
        s = dsgen.lvos(root, "valid", videos=1, frames=20, size=(100, 100))
        dsgen.predictions(
            root / "res", {v: ([f"{t:08d}" for t in range(0, 20, 5)], x[::5]) for v, x in s.items()}
        )
        return root / "valid", root / "res", {"split": "valid"}
    s = dsgen.davis_sparse(root, videos=1, frames=10, count=4, size=(100, 100))
    dsgen.predictions(root / "res", s)
    return root, root / "res", {}


def test_empty_sequence_list_is_an_error(nine_cases, tmp_path):
    gt, res, _ = nine_cases["davis2017"]
    with pytest.raises(EvaluationError, match="no sequence to evaluate"):
        fastmask.evaluate(gt, res, sequences=[])
    empty = tmp_path / "DAVIS"
    (empty / "ImageSets" / "2017").mkdir(parents=True)
    (empty / "ImageSets" / "2017" / "val.txt").write_text("\n")
    (empty / "Annotations" / "480p").mkdir(parents=True)
    with pytest.raises(EvaluationError, match=r"ImageSets/2017/val\.txt"):
        fastmask.evaluate(empty, res)
    for case in ("vos-benchmark", "sav", "youtube-vos", "mose", "lvos", "mosev2", "sparse"):
        gt, res, opts = nine_cases[case]
        with pytest.raises(EvaluationError, match="no sequence to evaluate"):
            fastmask.evaluate(gt, res, nine.protocol_of(case), sequences=[], **opts)
        # a name that is not in the dataset is an error too, not a smaller evaluation
        with pytest.raises(EvaluationError, match="nope"):
            fastmask.evaluate(gt, res, nine.protocol_of(case), sequences=["nope"], **opts)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(nine_cases, tmp_path, umask):
    gt, res, opts = nine_cases["youtube-vos"]
    ev = fastmask.evaluate(gt, res, "youtube-vos", **opts)
    old = os.umask(umask)
    try:
        written = ev.write(tmp_path / "out")
        png = tmp_path / "out" / "x.png"
        fastmask.write_png(png, np.zeros((2, 2), np.uint8))
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    assert {p.stat().st_mode & 0o777 for p in written} == {want}
    assert png.stat().st_mode & 0o777 == want


def test_threads_default(monkeypatch):
    from fastmask.evaluation import default_threads

    monkeypatch.setenv("FASTMASK_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("FASTMASK_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="FASTMASK_NUM_THREADS"):
        default_threads()
    monkeypatch.delenv("FASTMASK_NUM_THREADS")
    assert default_threads() == len(os.sched_getaffinity(0))


def test_ctrl_c_stops_a_long_sequence(tmp_path):
    """SIGINT while the engine scores one long sequence (GIL released): the process exits with
    KeyboardInterrupt long before the sequence would be done. The bound is generous (a shared
    CI machine); the measured time is printed (about 0.05-0.1 s on a 2-core machine)."""
    root = tmp_path / "DAVIS"
    rng = np.random.default_rng(0)
    frame = gen.make_sequence(rng, 1080, 1920, 1, ["always", "always", "always"])[0]
    gen.write_davis(root, {"long": frame[None]})
    folder = root / "Annotations" / "480p" / "long"
    first = folder / "00000.png"
    (tmp_path / "res" / "long").mkdir(parents=True)
    # 3,000 frames that are one file: ~60 s of work on one thread, made in a blink.
    for t in range(3000):
        name = f"{t:05d}.png"
        if t:
            os.link(first, folder / name)
        os.link(first, tmp_path / "res" / "long" / name)
    script = textwrap.dedent(
        f"""
        import sys, fastmask
        print("started", flush=True)
        fastmask.evaluate({str(root)!r}, {str(tmp_path / "res")!r}, threads=1)
        print("finished", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)  # imports done, the engine is inside the sequence
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    elapsed = time.perf_counter() - sent
    print(f"exit {elapsed:.3f} s after SIGINT")
    assert "finished" not in out and "KeyboardInterrupt" in err, err
    assert elapsed < 5.0


def test_cli_subsets_and_extra_outputs(nine_cases, tmp_path, capsys):
    gt, res, _ = nine_cases["davis2017"]
    seqfile = tmp_path / "seqs.txt"
    seqfile.write_text("gamma\n\n")
    argv = ["eval", "--gt", str(gt), "--results", str(res), "--no-progress"]
    argv += ["--output", str(tmp_path / "out"), "--sequences", "alpha", "--sequences-file"]
    argv += [str(seqfile), "--per-frame", str(tmp_path / "frames.csv")]
    argv += ["--json", str(tmp_path / "ev.json")]
    assert main(argv) == 0
    ev = fastmask.evaluate(gt, res, sequences=["alpha", "gamma"])
    assert {o.sequence for o in ev.objects} == {"alpha", "gamma"}
    assert (tmp_path / "out" / "global_results-val.csv").read_text() == ev.files()[
        "global_results-val.csv"
    ]
    lines = (tmp_path / "frames.csv").read_text().splitlines()
    assert lines[0] == "sequence,object,frame,J,F" and len(lines) == 1 + len(ev.per_frame()["J"])
    doc = json.loads((tmp_path / "ev.json").read_text())
    assert doc["global"]["J&F-Mean"] == pytest.approx(ev.global_scores["J&F-Mean"], abs=0)
    assert [r["name"] for r in doc["objects"]] == [o.name for o in ev.objects]
    assert "wrote" in capsys.readouterr().out
    assert main([*argv[:8], "--sequences", "nope"]) == 1
    assert "nope" in capsys.readouterr().err


def test_batches_and_executor_arguments(nine_cases):
    from fastmask.evaluation import batches

    gt, res, _ = nine_cases["davis2017"]
    p = plan(gt, res)
    jobs = list(range(1000))
    sizes = [len(b) for b in batches(jobs, workers=2)]  # type: ignore[arg-type]
    assert sizes == [125] * 8  # about four tasks per worker
    assert [len(b) for b in batches(jobs, workers=1, batch_size=300)] == [300, 300, 300, 100]  # type: ignore[arg-type]
    assert max(len(b) for b in batches(list(range(50_900)), workers=2)) == 256  # type: ignore[arg-type]
    assert [j for b in batches(jobs, workers=3) for j in b] == jobs  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="executor"):
        run(p, object())
    with pytest.raises(ValueError, match="executor"):
        run(p, "spark")
    with pytest.raises(ValueError, match="threads"):
        run(p, threads=0)
