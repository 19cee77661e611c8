"""Scoring predictions held in memory (``fastmask.evaluation.Evaluator``) against the ways a
user gets the same numbers from files, on the DAVIS-2017-val-sized set of ``bench_eval.py``
(30 sequences, 1999 frames at 854/910/1152 x 480; ``FASTMASK_BENCH_SMALL=1``: 6 frames per
sequence, 180 frames).

The predictions (the set's result PNGs) are decoded into arrays once, before timing: they are
what a model hands over. Each pipeline then goes from those arrays to the ``Evaluation``:

- ``Evaluator``: ``add_video`` per sequence, then ``result()``;
- ``fastmask PNGs + evaluate``: ``fastmask.write_pngs`` into a fresh folder, ``fastmask.evaluate``;
- ``Pillow PNGs + official``: ``PIL.Image.save`` per frame (palette PNG, as model repositories
  do), then the official evaluation's approach (``tests/evalref/davis.py``, which computes as
  davis2017-evaluation does). Under ``FASTMASK_BENCH_SMALL`` it runs on 6 of the 30 sequences
  and the Evaluator is timed on the same 6 in that group.

Also: the caller's cost of ``add`` per 854x480 frame (the scoring runs on the Evaluator's
thread; ``numpy.copy`` of the frame, which ``add`` must do since a caller reuses buffers, is
the baseline), and peak RSS of a fresh process streaming the set with ``max_pending`` 8 and 64,
over 10 and 30 sequences (it should grow with ``max_pending``, not with the number of frames).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fastmask
from bench_eval import SMALL, WORKERS, _say, dataset
from conftest import VMHWM_SRC
from fastmask.evaluation import Evaluator, evaluate

SIZE = "small" if SMALL else "1999 frames"


@pytest.fixture(scope="module")
def data() -> Path:
    return dataset()


@pytest.fixture(scope="module")
def preds(data: Path) -> dict[str, np.ndarray]:
    out = {}
    for seq in sorted(p.name for p in (data / "results").iterdir() if p.is_dir()):
        paths = sorted((data / "results" / seq).glob("*.png"))
        out[seq] = fastmask.read_pngs(paths)
    return out


def _evaluator(gt: Path, preds: dict[str, np.ndarray], sequences=None) -> fastmask.Evaluation:
    ev = Evaluator(gt, threads=WORKERS, sequences=sequences)
    for seq in ev.sequences:
        ev.add_video(seq, preds[seq])
    return ev.result()


def _fastmask_files(gt: Path, preds: dict[str, np.ndarray]) -> fastmask.Evaluation:
    out = Path(tempfile.mkdtemp(prefix="fastmask-bench-evaluator-"))
    try:
        for seq, stack in preds.items():
            (out / seq).mkdir()
            fastmask.write_pngs([out / seq / f"{t:05d}.png" for t in range(len(stack))], stack)
        return evaluate(gt, out, threads=WORKERS)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _pillow_official(gt: Path, preds: dict[str, np.ndarray]) -> None:
    from evalref.davis import evaluate_davis
    from evalref.gen import davis_palette
    from PIL import Image

    out = Path(tempfile.mkdtemp(prefix="fastmask-bench-evaluator-"))
    try:
        for seq, stack in preds.items():
            (out / seq).mkdir()
            for t, frame in enumerate(stack):
                img = Image.fromarray(frame, mode="P")
                img.putpalette(davis_palette())
                img.save(out / seq / f"{t:05d}.png")
        evaluate_davis(gt, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


GROUP_FILES = f"davis2017 val-sized from arrays vs fastmask PNGs ({SIZE})"


def _cpu(fn, *args) -> float:
    """CPU seconds of this process (all threads) for one call: on a shared machine the wall
    time depends on the other jobs, the CPU time much less."""
    t0 = time.process_time()
    fn(*args)
    return time.process_time() - t0


def test_evaluator_arrays(benchmark, data, preds, request):
    benchmark.group = GROUP_FILES
    benchmark.extra_info.update(impl=f"Evaluator threads={WORKERS}", target=">= 3x")
    got = benchmark.pedantic(_evaluator, args=(data / "DAVIS", preds), rounds=3, iterations=1)
    ours = _cpu(_evaluator, data / "DAVIS", preds)
    theirs = _cpu(_fastmask_files, data / "DAVIS", preds)
    benchmark.extra_info.update(cpu_s=round(ours, 3), cpu_s_fastmask_files=round(theirs, 3))
    _say(
        request,
        f"\nCPU seconds: Evaluator {ours:.2f}, fastmask PNGs + evaluate {theirs:.2f} "
        f"({theirs / ours:.1f}x)",
    )
    want = evaluate(data / "DAVIS", data / "results", threads=WORKERS)
    assert got.files() == want.files()  # the same numbers, or the comparison means nothing
    _say(
        request,
        f"\nEvaluator: {got.n_frames} scored frames, J&F {got.global_scores['J&F-Mean']:.4f}",
    )


def test_fastmask_pngs_then_evaluate(benchmark, data, preds):
    benchmark.group = GROUP_FILES
    benchmark.extra_info.update(impl="fastmask write_pngs + evaluate", baseline=True)
    benchmark.pedantic(_fastmask_files, args=(data / "DAVIS", preds), rounds=3, iterations=1)


# Under FASTMASK_BENCH_SMALL the official approach runs on a subset (the full set took 338.7 s
# in the session-3 run quoted in NOTES); both sides of this group use the same sequences.
OFFICIAL_SEQS = [f"seq{i:02d}" for i in range(6)] if SMALL else None
GROUP_OFFICIAL = f"davis2017 from arrays vs Pillow + official ({SIZE}{', 6 seqs' if SMALL else ''})"


def _subset(preds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return preds if OFFICIAL_SEQS is None else {k: preds[k] for k in OFFICIAL_SEQS}


def _sub_gt(data: Path) -> Path:
    """The DAVIS root restricted to OFFICIAL_SEQS (the reference reads ImageSets)."""
    if OFFICIAL_SEQS is None:
        return data / "DAVIS"
    root = data / "DAVIS-subset"
    if not root.exists():
        (root / "ImageSets" / "2017").mkdir(parents=True)
        (root / "ImageSets" / "2017" / "val.txt").write_text("\n".join(OFFICIAL_SEQS) + "\n")
        (root / "Annotations").mkdir()
        (root / "Annotations" / "480p").symlink_to(data / "DAVIS" / "Annotations" / "480p")
    return root


def test_evaluator_arrays_vs_official(benchmark, data, preds):
    benchmark.group = GROUP_OFFICIAL
    benchmark.extra_info.update(impl=f"Evaluator threads={WORKERS}", target=">= 100x")
    benchmark.pedantic(_evaluator, args=(_sub_gt(data), _subset(preds)), rounds=3, iterations=1)


def test_pillow_then_official(benchmark, data, preds):
    benchmark.group = GROUP_OFFICIAL
    benchmark.extra_info.update(impl="Pillow PNGs + official approach", baseline=True)
    benchmark.pedantic(
        _pillow_official, args=(_sub_gt(data), _subset(preds)), rounds=1, iterations=1
    )


# ----- the caller's cost of add() -----------------------------------------------------------

GROUP_ADD = "add() on the caller, one 854x480 frame"


def _add_times(data: Path, preds: dict[str, np.ndarray], copy: bool, step: float) -> np.ndarray:
    """Seconds of each ``add`` over the 854-wide sequences, with ``step`` seconds of "model"
    between frames (``time.sleep`` releases the GIL as a GPU forward pass does)."""
    seqs = [s for s, v in preds.items() if v.shape[2] == 854][:8]
    ev = Evaluator(data / "DAVIS", sequences=seqs, copy=copy, threads=max(1, WORKERS - 1))
    for s in seqs:
        ev.frames(s)  # each sequence's frame listing, once: planning, not a per-frame cost
    spent = []
    for s in seqs:
        for i, frame in enumerate(preds[s]):
            if step:
                time.sleep(step)
            t0 = time.perf_counter()
            ev.add(s, i, frame)
            spent.append(time.perf_counter() - t0)
    ev.result()
    return np.array(spent)


def test_add_cost(benchmark, data, preds, request):
    """The caller's time in ``add`` (median over the frames; the first ``max_pending`` adds
    also fault in the pool's fresh buffers). Scoring uses cores - 1 threads, leaving the
    caller one, as a training loop would."""
    # The timed call is the whole measurement (4 streams): the per-frame figures are the
    # medians in extra_info / on the terminal, so this has a group of its own (no ratio).
    benchmark.group = GROUP_ADD + ": per-frame medians printed (target < 50 us)"
    benchmark.extra_info.update(impl="Evaluator.add streams")
    rows = {}

    def measure():
        for copy in (True, False):
            for step in (0.005, 0.0):
                rows[(copy, step)] = _add_times(data, preds, copy, step) * 1e6

    benchmark.pedantic(measure, rounds=1, iterations=1)
    # The same step before a bare numpy copy: after a sleep every call starts cold (on this
    # shared VM, 3-4x slower for the first ~100 us whatever it does).
    frame = preds["seq01"][3]
    for step in (0.005, 0.0):
        spent = []
        for _ in range(200):
            if step:
                time.sleep(step)
            t0 = time.perf_counter()
            np.array(frame, copy=True)
            spent.append(time.perf_counter() - t0)
        us = np.array(spent) * 1e6
        benchmark.extra_info[f"numpy copy, model step {step * 1e3:.0f} ms, median_us"] = round(
            float(np.median(us)), 1
        )
        _say(
            request,
            f"\nnumpy copy alone, model step {step * 1e3:.0f} ms: median {np.median(us):.1f} us",
        )
    for (copy, step), us in rows.items():
        key = f"copy={copy}, model step {step * 1e3:.0f} ms"
        benchmark.extra_info[key] = {
            "median_us": round(float(np.median(us)), 1),
            "p90_us": round(float(np.percentile(us, 90)), 1),
            "frames": len(us),
        }
        _say(
            request,
            f"\nadd() per 854x480 frame, {key}: median {np.median(us):.1f} us, "
            f"p90 {np.percentile(us, 90):.1f} us ({len(us)} frames)",
        )


def test_copy_floor(benchmark, preds):
    """What any add must at least do: copy the frame (the caller may reuse its buffer)."""
    benchmark.group = GROUP_ADD
    benchmark.extra_info.update(impl="numpy copy of the frame", baseline=True)
    frame = preds["seq01"][3]
    benchmark(np.array, frame, copy=True)


# ----- memory ------------------------------------------------------------------------------


def _peak(data: Path, n_seqs: int, max_pending: int) -> dict:
    """Peak RSS of a fresh process streaming ``n_seqs`` sequences, predictions made per frame
    (the ground truth shifted by 3 pixels: nothing is held but what the Evaluator holds)."""
    prog = f"""
import json, numpy as np, fastmask
from fastmask.evaluation import Evaluator

{VMHWM_SRC}
root = {str(data)!r}
seqs = [f"seq{{i:02d}}" for i in range({n_seqs})]
ev = Evaluator(root + "/DAVIS", sequences=seqs, max_pending={max_pending}, threads={WORKERS})
base = vmhwm_kb()
frames = 0
for s in seqs:
    for f in ev.frames(s):
        gt = fastmask.read_png(f"{{root}}/DAVIS/Annotations/480p/{{s}}/{{f}}.png")
        ev.add(s, f, np.roll(gt, 3, axis=1))
        frames += 1
ev.result()
peak = vmhwm_kb()
print(json.dumps({{"base_mb": base / 1024, "peak_mb": peak / 1024, "frames": frames}}))
"""
    out = subprocess.run([sys.executable, "-c", prog], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_peak_memory_bounded_by_max_pending(benchmark, data, request):
    benchmark.group = "Evaluator peak RSS"
    benchmark.extra_info.update(impl="Evaluator streaming")
    rows = {}

    def measure():
        for n, mp in ((10, 8), (30, 8), (30, 64)):
            rows[f"{n} seqs, max_pending={mp}"] = _peak(data, n, mp)

    benchmark.pedantic(measure, rounds=1, iterations=1)
    for k, r in rows.items():
        benchmark.extra_info[k] = {
            "frames": r["frames"],
            "peak_mb": round(r["peak_mb"], 1),
            "above_start_mb": round(r["peak_mb"] - r["base_mb"], 1),
        }
        _say(
            request,
            f"\n{k}: {r['frames']} frames, peak RSS {r['peak_mb']:.0f} MB "
            f"({r['peak_mb'] - r['base_mb']:.0f} MB above the planned Evaluator)",
        )
