"""Evaluation of a DAVIS-2017-val-sized set: fastmask vs the official tool's approach and vs
vos-benchmark with the same number of workers, peak memory, and the per-stage split.

The set mirrors DAVIS-2017 val: 30 sequences with its frame counts (1999 frames), widths 854 / 910
/ 1152 at height 480, 61 objects, palette PNGs; results are perturbed copies. It is generated once
into ``/tmp/fastmask-bench-eval-*`` and reused. ``FASTMASK_BENCH_SMALL=1`` keeps 6 frames per
sequence (180 frames) for a quick pass.

- ``official approach``: the test reference (``tests/evalref/davis.py``), which computes as
  davis2017-evaluation does (float64 one-hot stacks, full-frame ``cv2.dilate``), one process;
- ``vos-benchmark``: the real package, ``benchmark(..., num_processes=workers)``;
- fastmask with ``threads=workers`` (workers = the machine's cores).

Peak memory is ``VmHWM`` of a fresh subprocess (Rust allocations included), reported with the
per-stage split (decode / J / F, thread-seconds) in ``extra_info`` and on the terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import VMHWM_SRC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fastmask.evaluation import evaluate

SMALL = bool(os.environ.get("FASTMASK_BENCH_SMALL"))
WORKERS = os.cpu_count() or 1
# DAVIS-2017 val: frames per sequence, objects per sequence, width.
FRAMES = [69, 50, 80, 84, 90, 75, 40, 104, 90, 60, 66, 52, 50, 90, 78,
          50, 81, 34, 50, 47, 49, 50, 79, 40, 80, 100, 79, 43, 40, 99]  # fmt: skip
OBJECTS = [2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 5, 2, 3, 2, 3, 3, 1, 3, 2, 2, 3, 1, 3, 2, 3, 4]
WIDTHS = {0: 910, 7: 910, 12: 910, 28: 1152}
CACHE = Path("/tmp") / f"fastmask-bench-eval-{'small' if SMALL else 'full'}-v1"


def _paint(rng: np.random.Generator, t: int, h: int, w: int, n_obj: int, params) -> np.ndarray:
    frame = np.zeros((h, w), np.uint8)
    for k in range(n_obj):
        cy, cx, vy, vx, ry, rx = params[k]
        y, x = cy + vy * t, cx + vx * t
        y0, y1 = max(0, int(y - ry)), min(h, int(y + ry) + 1)
        x0, x1 = max(0, int(x - rx)), min(w, int(x + rx) + 1)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = ((yy - y) / ry) ** 2 + ((xx - x) / rx) ** 2 <= 1
        frame[y0:y1, x0:x1][inside] = k + 1
    return frame


def _alter(rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
    import cv2

    out = np.zeros_like(frame)
    for k in np.unique(frame)[1:]:
        m = (frame == k).astype(np.uint8)
        op = rng.integers(0, 4)
        if op == 0:
            m = cv2.erode(m, np.ones((5, 5), np.uint8))
        elif op == 1:
            m = cv2.dilate(m, np.ones((5, 5), np.uint8))
        elif op == 2:
            m = np.roll(m, tuple(rng.integers(-8, 9, 2)), axis=(0, 1))
        out[m.astype(bool)] = k
    return out


def dataset() -> Path:
    """Build (once) and return the cache root holding ``DAVIS`` and ``results``."""
    done = CACHE / "done"
    if done.exists():
        return CACHE
    from evalref.gen import write_png

    rng = np.random.default_rng(2017)
    names = [f"seq{i:02d}" for i in range(30)]
    for i, name in enumerate(names):
        h, w = 480, WIDTHS.get(i, 854)
        n_frames = min(FRAMES[i], 6) if SMALL else FRAMES[i]
        params = [
            (
                rng.uniform(0.3, 0.7) * h,
                rng.uniform(0.3, 0.7) * w,
                rng.uniform(-1.5, 1.5),
                rng.uniform(-2.5, 2.5),
                rng.uniform(0.1, 0.3) * h,
                rng.uniform(0.06, 0.2) * w,
            )
            for _ in range(OBJECTS[i])
        ]
        for t in range(n_frames):
            frame = _paint(rng, t, h, w, OBJECTS[i], params)
            write_png(CACHE / "DAVIS" / "Annotations" / "480p" / name / f"{t:05d}.png", frame)
            write_png(CACHE / "results" / name / f"{t:05d}.png", _alter(rng, frame))
    sets = CACHE / "DAVIS" / "ImageSets" / "2017"
    sets.mkdir(parents=True, exist_ok=True)
    (sets / "val.txt").write_text("".join(f"{n}\n" for n in names))
    done.write_text("ok")
    return CACHE


@pytest.fixture(scope="module")
def data() -> Path:
    return dataset()


def _say(request, line: str) -> None:
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(line)


def _peak_rss(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; peak RSS (MB) after imports and at the end."""
    prog = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / 'tests')!r})\n"
        "import numpy, fastmask, fastmask.evaluation\n"
        f"{VMHWM_SRC}\n"
        "base = vmhwm_kb()\n"
        f"{code}\n"
        "peak = vmhwm_kb()\n"
        "print(json.dumps({'base_mb': base / 1024, 'peak_mb': peak / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", prog], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


GROUP = f"eval davis2017 val-sized ({'small' if SMALL else '1999 frames'})"


def test_fastmask_davis2017(benchmark, data, request):
    benchmark.group = GROUP
    benchmark.extra_info.update(impl=f"fastmask threads={WORKERS}", target=">= 100x")
    evaluate(data / "DAVIS", data / "results", "davis2017")  # warm the page cache, like the others
    ev = benchmark(evaluate, data / "DAVIS", data / "results", "davis2017", threads=WORKERS)
    mem = _peak_rss(
        f"fastmask.evaluate({str(data / 'DAVIS')!r}, {str(data / 'results')!r}, threads={WORKERS})"
    )
    stages = {k: round(ev.timings[k], 4) for k in ("decode", "J", "F")}
    benchmark.extra_info.update(peak_rss_mb=round(mem["peak_mb"], 1), stages_thread_s=stages)
    _say(
        request,
        f"\nfastmask davis2017: {ev.n_frames} frames, {len(ev.objects)} objects; peak RSS "
        f"{mem['peak_mb']:.0f} MB ({mem['peak_mb'] - mem['base_mb']:.0f} MB above the interpreter "
        f"with numpy + fastmask imported); stages (thread-seconds): {stages}",
    )


def test_official_approach_davis2017(benchmark, data, request):
    from evalref.davis import evaluate_davis

    benchmark.group = GROUP
    benchmark.extra_info.update(impl="official approach (1 process)", baseline=True)
    benchmark.pedantic(
        evaluate_davis, args=(data / "DAVIS", data / "results"), rounds=1, iterations=1
    )
    seq = "seq07"  # 104 frames
    mem = _peak_rss(
        "from evalref.davis import evaluate_davis\n"
        "import tempfile, os, pathlib\n"
        f"root = pathlib.Path(tempfile.mkdtemp())\n"
        f"(root / 'ImageSets' / '2017').mkdir(parents=True)\n"
        f"(root / 'ImageSets' / '2017' / 'val.txt').write_text({seq!r})\n"
        f"(root / 'Annotations').mkdir()\n"
        f"src = {str(data / 'DAVIS' / 'Annotations' / '480p')!r}\n"
        "os.symlink(src, root / 'Annotations' / '480p')\n"
        f"evaluate_davis(root, {str(data / 'results')!r})"
    )
    benchmark.extra_info.update(peak_rss_mb_one_sequence=round(mem["peak_mb"], 1))
    _say(request, f"\nofficial approach: peak RSS {mem['peak_mb']:.0f} MB for one sequence ({seq})")


VOS_GROUP = f"eval vos-benchmark rules, {WORKERS} workers ({'small' if SMALL else '1999 frames'})"


def test_fastmask_vos_benchmark(benchmark, data):
    benchmark.group = VOS_GROUP
    benchmark.extra_info.update(impl=f"fastmask threads={WORKERS}", target=">= 20x")
    gt = data / "DAVIS" / "Annotations" / "480p"
    benchmark(evaluate, gt, data / "results", "vos-benchmark", threads=WORKERS)


def test_vos_benchmark_package(benchmark, data):
    from vos_benchmark.benchmark import benchmark as vos_run

    benchmark.group = VOS_GROUP
    benchmark.extra_info.update(impl=f"vos-benchmark {WORKERS} processes", baseline=True)
    gt = data / "DAVIS" / "Annotations" / "480p"
    benchmark.pedantic(
        vos_run,
        args=([str(gt)], [str(data / "results")], True, WORKERS),
        kwargs={"verbose": False},
        rounds=1 if not SMALL else 2,
        iterations=1,
    )


@pytest.mark.parametrize("threads", [1, WORKERS] if WORKERS > 1 else [1])
def test_fastmask_thread_scaling(benchmark, data, threads):
    benchmark.group = f"eval davis2017 thread scaling ({'small' if SMALL else '1999 frames'})"
    benchmark.extra_info.update(impl=f"fastmask threads={threads}", baseline=threads == 1)
    benchmark(evaluate, data / "DAVIS", data / "results", "davis2017", threads=threads)
