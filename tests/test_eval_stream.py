"""``fastmask.evaluation.Evaluator``: predictions held in memory score exactly as the same
predictions written as PNGs and evaluated with ``fastmask.evaluate`` (numbers, per-frame
table and files, every protocol), ``save_to`` writes those PNGs, errors at ``add`` time,
back-pressure, per-sequence results, and use from several threads and after ``fork``."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import fastmask
import numpy as np
import pytest
from evalref import gen, nine
from fastmask.evaluation import Evaluator
from fastmask.evaluation._engine import read_labels

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_frames"),
    reason="compiled evaluation engine not built",
)


@pytest.fixture
def data(nine_cases: dict[str, nine.Case]) -> dict[str, nine.Case]:
    return nine_cases  # the session's shared, read-only datasets (tests/conftest.py)


def _feed(
    ev: Evaluator, res: Path, protocol: str, skip: frozenset[tuple[str, str]] = frozenset()
) -> None:
    """Every result PNG of ``res`` into ``ev`` as arrays (SA-V: one object at a time)."""
    for seq in ev.sequences:
        for f in ev.frames(seq):
            if (seq, f) in skip:
                continue
            if protocol == "sav" and (res / seq).is_dir():
                for o in sorted(os.listdir(res / seq)):
                    p = res / seq / o / f"{f}.png"
                    if p.is_file():
                        ev.add(seq, f, read_labels(str(p)), object=o)
                continue
            p = res / seq / f"{f}.png"
            if p.is_file():
                ev.add(seq, f, read_labels(str(p)))


@pytest.mark.parametrize("threads", [1, 2])
def test_every_protocol_equals_evaluate_on_pngs(data, tmp_path, threads):
    for case, (gt, res, opts) in data.items():
        protocol = nine.protocol_of(case)
        want = fastmask.evaluate(gt, res, protocol, threads=1, **opts)
        saved = tmp_path / case
        ev = Evaluator(gt, protocol, save_to=saved, max_pending=3, threads=threads, **opts)
        _feed(ev, res, protocol)
        got = ev.result()
        nine.assert_same(got, want)
        # save_to wrote the PNGs: evaluating them gives the same again, and the files it
        # writes are byte-identical.
        again = fastmask.evaluate(gt, saved, protocol, threads=1, **opts)
        nine.assert_same(got, again)
        if protocol != "mosev2":  # metrics.json holds the run time
            a = got.write(tmp_path / "out" / case / "a")
            b = want.write(tmp_path / "out" / case / "b")
            assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b], case


def test_label_maps_equal_pngs_on_generated_sequences(tmp_path):
    """Random sequences (several sizes, void, late and vanishing objects) through both
    paths, without save_to (no file written by the Evaluator)."""
    rng = np.random.default_rng(5)
    seqs = {
        f"s{i}": gen.make_sequence(rng, int(rng.integers(8, 20)), 37 + i, 5 + i % 3, modes)
        for i, modes in enumerate([["always", "late"], ["vanish", "reappear"], ["always"] * 3])
    }
    gen.write_davis(tmp_path / "DAVIS", seqs)
    results = gen.semi_results(seqs, seed=9)
    gen.write_results(tmp_path / "res", results)
    want = fastmask.evaluate(tmp_path / "DAVIS", tmp_path / "res")
    ev = Evaluator(tmp_path / "DAVIS", max_pending=2)
    for name, stack in results.items():
        ev.add_video(name, stack)
    nine.assert_same(ev.result(), want)
    assert not any(p.name != "DAVIS" and p.name != "res" for p in tmp_path.iterdir())


def test_add_video_frame_lists_and_inputs(data, tmp_path):
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt)
    for seq in ev.sequences:
        scored = ev.scored_frames(seq)
        assert scored == ev.frames(seq)[1:-1]
        stack = np.stack([read_labels(str(res / seq / f"{f}.png")) for f in scored])
        if seq == ev.sequences[0]:
            ev.add_video(seq, stack)  # T = the scored frames
        elif seq == ev.sequences[1]:
            # T = every frame; the first and last are not scored, any labels do
            full = np.concatenate([stack[:1] * 0, stack, stack[:1] * 0])
            ev.add_video(seq, full.astype(np.uint16))
        else:
            for i, f in enumerate(scored):
                lab = stack[i]
                # DLPack (numpy's own __dlpack__), a non-contiguous view, int indices
                if i % 3 == 0:
                    ev.add(seq, f + ".png", _DLPackOnly(lab))
                elif i % 3 == 1:
                    ev.add(seq, ev.frames(seq).index(f), np.asfortranarray(lab))
                else:
                    ev.add(seq, f, lab.tolist())
    nine.assert_same(ev.result(), want)


class _DLPackOnly:
    """An object that exposes only DLPack (like a CPU tensor of another library)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __dlpack__(self, **kw: Any) -> Any:
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self) -> Any:
        return self.a.__dlpack_device__()


def test_torch_tensors_when_installed(data):
    torch = pytest.importorskip("torch")
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt)
    for seq in ev.sequences:
        for f in ev.scored_frames(seq):
            ev.add(seq, f, torch.from_numpy(read_labels(str(res / seq / f"{f}.png"))))
    nine.assert_same(ev.result(), want)


def test_errors_at_add_time(data):
    gt, res, _ = data["davis2017"]
    ev = Evaluator(gt)
    seq = ev.sequences[0]
    f = ev.scored_frames(seq)[0]
    lab = read_labels(str(res / seq / f"{f}.png"))
    with pytest.raises(KeyError, match=r"unknown sequence 'alpah'.*did you mean 'alpha'"):
        ev.add("alpah", f, lab)
    with pytest.raises(KeyError, match=r"unknown frame '0003'.*did you mean '00003'"):
        ev.add(seq, "0003", lab)
    with pytest.raises(KeyError, match="out of range"):
        ev.add(seq, 999, lab)
    with pytest.raises(ValueError, match="rotated by 90 degrees"):
        ev.add(seq, f, lab.T.copy())
    with pytest.raises(ValueError, match=r"result is 3x4 \(HxW\) but the ground truth is"):
        ev.add(seq, f, np.zeros((3, 4), np.uint8))
    with pytest.raises(ValueError, match=r"labels must be \(H, W\)"):
        ev.add(seq, f, lab[None])
    n = int(lab.max())
    bad = lab.copy()
    bad[0, 0] = 9  # alpha has 2 objects
    assert n < 9
    with pytest.raises(ValueError, match="result label 9 is not allowed: labels must be at most"):
        ev.add(seq, f, bad)
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.255"):
        ev.add(seq, f, lab.astype(np.uint16) + 300)
    with pytest.raises(ValueError, match="integer array"):
        ev.add(seq, f, lab.astype(np.float32))
    ev.add(seq, f, lab)
    with pytest.raises(ValueError, match="added twice"):
        ev.add(seq, f, lab)
    with pytest.raises(ValueError, match="frames"):
        ev.add_video(seq, np.zeros((2, *lab.shape), np.uint8))
    # result() names every scored frame never added
    with pytest.raises(
        fastmask.EvaluationError,
        match=r"\d+ scored frame\(s\) in 3 sequence\(s\) never added: alpha: 0000[2-4]",
    ):
        ev.result()
    with pytest.raises(KeyError, match="unknown object"):
        Evaluator(data["sav"][0], "sav").add("v0", 1, lab, object="007")


def test_allow_missing_scores_empty_masks_like_evaluate(data, tmp_path):
    gt, res, _ = data["davis2017"]
    # The same frames removed from a copy of the results, scored as empty both ways.
    skip = {("alpha", "00003"), ("gamma", "00004"), ("gamma", "00005")}
    part = tmp_path / "partial"
    for seq in ("alpha", "beta", "gamma"):
        (part / seq).mkdir(parents=True)
        for p in sorted((res / seq).iterdir()):
            if (seq, p.stem) not in skip:
                (part / seq / p.name).write_bytes(p.read_bytes())
    want = fastmask.evaluate(gt, part, allow_missing=True)
    assert want.missing == 3
    ev = Evaluator(gt, allow_missing=True)
    _feed(ev, res, "davis2017", skip)
    assert ev.missing_frames() == {"alpha": ["00003"], "gamma": ["00004", "00005"]}
    nine.assert_same(ev.result(), want)


def test_sequence_results_as_soon_as_complete(data):
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    seen: list[str] = []
    ev = Evaluator(gt, on_sequence=lambda name, e: seen.append(name), max_pending=2)
    first = ev.sequences[0]
    assert ev.sequence_result(first) is None
    for f in ev.scored_frames(first):
        ev.add(first, f, read_labels(str(res / first / f"{f}.png")))
    one = ev.sequence_result(first)
    assert one is not None and seen == [first]
    assert [o.name for o in one.objects] == [o.name for o in want.objects if o.sequence == first]
    for a, b in zip(one.objects, [o for o in want.objects if o.sequence == first]):
        assert np.array_equal(a.J, b.J) and np.array_equal(a.F, b.F)
    _feed(ev, res, "davis2017", {(first, f) for f in ev.frames(first)})
    nine.assert_same(ev.result(), want)
    assert seen == ev.sequences


def test_back_pressure_bounds_pending_frames(data, monkeypatch):
    gt, res, _ = data["davis2017"]
    ev = Evaluator(gt, max_pending=2)
    peak = 0
    real = ev._process
    gate = threading.Event()

    def slow(items: list[Any]) -> None:
        nonlocal peak
        peak = max(peak, ev._pending)
        gate.wait(5)
        real(items)

    monkeypatch.setattr(ev, "_process", slow)
    seq = ev.sequences[0]
    frames = ev.scored_frames(seq)
    done = threading.Event()

    def feed() -> None:
        for f in frames:
            ev.add(seq, f, read_labels(str(res / seq / f"{f}.png")))
        done.set()

    t = threading.Thread(target=feed)
    t.start()
    # The scoring thread is held: the feeder stops after max_pending frames.
    assert not done.wait(0.5)
    assert ev._pending == 2
    gate.set()
    t.join(10)
    assert done.is_set()
    ev.wait()
    assert peak <= 2 and ev.sequence_result(seq) is not None


def test_several_threads_adding_at_once(data):
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt, max_pending=4)
    work = [(s, f) for s in ev.sequences for f in ev.scored_frames(s)]
    labels = {k: read_labels(str(res / k[0] / f"{k[1]}.png")) for k in work}
    errors: list[BaseException] = []

    def feed(part: list[tuple[str, str]]) -> None:
        try:
            for k in part:
                ev.add(*k, labels[k])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=feed, args=(work[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    nine.assert_same(ev.result(), want)


def _child_scores(ev: Evaluator, res: str, conn: Any) -> None:
    _feed(ev, Path(res), "davis2017")
    got = ev.result()
    conn.send(got.files())
    conn.close()


def test_works_after_fork_and_in_forked_workers(data):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt, max_pending=3)
    # The parent has started its thread and queued frames before the fork.
    seq = ev.sequences[0]
    for f in ev.scored_frames(seq)[:4]:
        ev.add(seq, f, read_labels(str(res / seq / f"{f}.png")))
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    fresh = Evaluator(gt)
    p = ctx.Process(target=_child_scores, args=(fresh, str(res), child))
    p.start()
    got = parent.recv()
    p.join(30)
    assert p.exitcode == 0 and got == want.files()
    # os.fork directly, with frames pending in the parent's copy: the child re-queues them
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            skip = {(seq, f) for f in ev.scored_frames(seq)[:4]}
            _feed(ev, Path(res), "davis2017", skip)
            ok = ev.result().files() == want.files()
            os.write(w, b"1" if ok else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    status = os.waitpid(pid, 0)[1]
    assert os.read(r, 1) == b"1" and status == 0
    os.close(r)
    # The parent goes on unaffected.
    skip = {(seq, f) for f in ev.scored_frames(seq)[:4]}
    _feed(ev, Path(res), "davis2017", skip)
    nine.assert_same(ev.result(), want)


def test_options_and_limits(data):
    gt, res, _ = data["davis2017"]
    with pytest.raises(ValueError, match="max_pending"):
        Evaluator(gt, max_pending=0)
    with pytest.raises(TypeError, match="unexpected options"):
        Evaluator(data["sav"][0], "sav", split="x")
    # The pixel limit travels as for files: the ground truth is refused.
    ev = Evaluator(gt, max_pixels=10)
    seq = ev.sequences[0]
    with pytest.raises(ValueError, match="exceeds the limit of 10 pixels"):
        ev.add(seq, "00001", read_labels(str(res / seq / "00001.png")))


def _corpus_case(root: Path, src: Path, seqs: list[str], year: str) -> dict[str, dict[str, Any]]:
    """Ground truth from the corpus (first 10 frames), altered predictions written as PNGs;
    returns the prediction arrays."""
    from test_eval_corpus import alter

    rng = np.random.default_rng(3)
    arrays: dict[str, dict[str, Any]] = {}
    for s in seqs:
        (root / "DAVIS" / "Annotations" / "480p" / s).mkdir(parents=True)
        (root / "res" / s).mkdir(parents=True)
        for t, p in enumerate(sorted((src / s).glob("*.png"))[:10]):
            (root / "DAVIS" / "Annotations" / "480p" / s / p.name).write_bytes(p.read_bytes())
            lab = read_labels(str(p))
            pred = alter(rng, lab, t)
            if year == "2017":  # the labels the semi-supervised task allows
                n = int(lab[lab != 255].max(initial=0))
                pred[pred > n] = 0
            fastmask.write_png(root / "res" / s / p.name, pred)
            arrays.setdefault(s, {})[p.stem] = pred
    (root / "DAVIS" / "ImageSets" / year).mkdir(parents=True)
    (root / "DAVIS" / "ImageSets" / year / "val.txt").write_text("\n".join(seqs) + "\n")
    return arrays


@pytest.mark.parametrize(
    ("corpus", "seqs", "year", "protocols"),
    [
        ("davis2017-osvos", ["bike-packing", "shooting", "lab-coat"], "2017", ["davis2017"]),
        ("davis2016", ["blackswan", "car-shadow"], "2016", ["davis2016", "vos-benchmark"]),
    ],
)
def test_corpus_masks_as_arrays(tmp_path, corpus, seqs, year, protocols):
    from conftest import corpus_path

    src = corpus_path(corpus)
    if corpus == "davis2016":
        src = corpus_path(corpus, "Annotations", "480p")
    arrays = _corpus_case(tmp_path, src, seqs, year)
    for protocol in protocols:
        gt = tmp_path / "DAVIS"
        if protocol == "vos-benchmark":
            gt = gt / "Annotations" / "480p"
        want = fastmask.evaluate(gt, tmp_path / "res", protocol)
        ev = Evaluator(gt, protocol, max_pending=4)
        for s, frames in arrays.items():
            for f, lab in frames.items():
                ev.add(s, f, lab)
        nine.assert_same(ev.result(), want)


def test_copy_false_keeps_references_and_reports_bad_labels_later(data):
    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt, copy=False)
    _feed(ev, res, "davis2017")
    nine.assert_same(ev.result(), want)
    # The label check moves to the scoring thread: the next call raises it, naming the frame.
    ev = Evaluator(gt, copy=False)
    seq = ev.sequences[0]
    f0, f1 = ev.scored_frames(seq)[:2]
    bad = read_labels(str(res / seq / f"{f0}.png"))
    bad[0, 0] = 9
    ev.add(seq, f0, bad)
    with pytest.raises(fastmask.EvaluationError, match=rf"{seq}/{f0}\.png.*label 9"):
        ev.wait()
    ev.add(seq, f1, read_labels(str(res / seq / f"{f1}.png")))  # goes on afterwards


def test_reset_scores_a_new_round_on_the_same_plan(data):
    for case in ("davis2017", "mosev2", "youtube-vos"):
        gt, res, opts = data[case]
        protocol = nine.protocol_of(case)
        want = fastmask.evaluate(gt, res, protocol, **opts)
        ev = Evaluator(gt, protocol, **opts)
        for _ in range(2):
            _feed(ev, res, protocol)
            nine.assert_same(ev.result(), want)
            ev.reset()


def test_sav_label_maps_equal_the_per_object_pngs_they_stand_for(data, tmp_path):
    """SA-V from one label map per frame (label k + 1 = object folder k): the same as the
    per-object PNGs save_to writes from it, and as the original results where the objects
    do not overlap."""
    gt, res, _ = data["sav"]
    ev = Evaluator(gt, "sav", save_to=tmp_path / "saved")
    for seq in ev.sequences:
        for f in ev.frames(seq):
            lab = None
            for o in sorted(os.listdir(res / seq)):
                m = read_labels(str(res / seq / o / f"{f}.png"))
                lab = np.zeros_like(m) if lab is None else lab
                lab[(m != 0) & (lab == 0)] = int(o) + 1  # folder 000 is label 1
            ev.add(seq, f, lab)
    got = ev.result()
    nine.assert_same(got, fastmask.evaluate(gt, tmp_path / "saved", "sav"))
    assert sorted(os.listdir(tmp_path / "saved" / "v0")) == sorted(os.listdir(res / "v0"))
    # Each saved object PNG is the label map's object: the original mask minus the pixels
    # an earlier object took.
    for o in sorted(os.listdir(res / "v0")):
        for p in sorted((res / "v0" / o).iterdir()):
            saved = read_labels(str(tmp_path / "saved" / "v0" / o / p.name))
            orig = read_labels(str(p)) != 0
            assert not (saved.astype(bool) & ~orig).any()


def test_pickles_with_its_plan_and_scores(data):
    import pickle

    gt, res, _ = data["davis2017"]
    want = fastmask.evaluate(gt, res)
    ev = Evaluator(gt)
    first = ev.sequences[0]
    for f in ev.scored_frames(first):
        ev.add(first, f, read_labels(str(res / first / f"{f}.png")))
    copy = pickle.loads(pickle.dumps(ev))
    assert copy.sequence_result(first) is not None
    _feed(copy, res, "davis2017", frozenset((first, f) for f in ev.frames(first)))
    nine.assert_same(copy.result(), want)
