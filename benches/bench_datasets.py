"""Dataset protocols: fastmask vs the reference approach, same data, same run.

- ``lvos 300 frames``: an LVOS-like split of 2 videos x 300 annotated frames (every 5th of 1500)
  at 480x854 with 2-3 objects each, scored by the ``lvos`` protocol and by the step-by-step
  lvos-evaluation reference (``tests/dsref/ref.py``: Pillow reads, numpy J, cv2 / skimage F, one
  process, as ``evaluation_method.py --mp_nums 1``).
- ``mosev2 6 videos``: a MOSE v2-like valid split (6 videos x 40 frames at 480x854, small,
  vanishing and reappearing objects) scored by ``mosev2`` and by MOSE-api's score.py steps
  (``tests/dsref/ref.py``, one process).
- ``youtube-vos 100 videos``: a YouTube-VOS-like train split of 100 videos x 9 annotated frames
  (480x854, late objects) scored by ``youtube-vos`` and by a per-object loop over the official
  DAVIS J / F (what one writes from davis2017-evaluation's code, the server's being private).

The data is generated once into ``/tmp/fastmask-bench-datasets`` (``FASTMASK_BENCH_SMALL=1``:
fewer frames and videos at 240x427). Peak memory of each approach is measured in a child process
(``VmHWM``, Linux) and put in ``extra_info["peak_rss_mb"]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from dsref import gen, ref  # noqa: E402

pytest.importorskip("fastmask.metrics")
pytest.importorskip("pandas")

import fastmask  # noqa: E402

SMALL = bool(os.environ.get("FASTMASK_BENCH_SMALL"))
SIZE = (240, 427) if SMALL else (480, 854)
LVOS_FRAMES = 300 if SMALL else 1500  # frame numbers; every 5th is annotated
YT_VIDEOS = 20 if SMALL else 100
MOSE_VIDEOS = 2 if SMALL else 6
BASE = Path("/tmp/fastmask-bench-datasets") / ("small" if SMALL else "full")


def _lvos() -> tuple[Path, Path]:
    root = BASE / "lvos"
    done = root / ".done"
    if not done.exists():
        stacks = gen.lvos(root, "valid", videos=2, frames=LVOS_FRAMES, size=SIZE, seed=11)
        rng = np.random.default_rng(12)
        for vid, lab in stacks.items():
            pred = gen.perturb(rng, lab, int(lab.max()))
            for t in range(0, len(lab), 5):
                gen.save_png(root / "res" / vid / f"{t:08d}.png", pred[t])
        done.touch()
    return root / "valid", root / "res"


def _youtube() -> tuple[Path, Path]:
    root = BASE / "ytvos"
    done = root / ".done"
    if not done.exists():
        stacks = gen.youtube_vos(
            root, "train", videos=YT_VIDEOS, frames=45, size=SIZE, seed=13, images=False
        )
        rng = np.random.default_rng(14)
        for vid, lab in stacks.items():
            pred = gen.perturb(rng, lab, int(lab.max()))
            for i, m in enumerate(pred):
                gen.save_png(root / "res" / vid / f"{5 * i:05d}.png", m)
        done.touch()
    return root, root / "res"


def _mose() -> tuple[Path, Path]:
    root = BASE / "mosev2"
    done = root / ".done"
    if not done.exists():
        stacks = gen.mose(
            root, "valid", version=2, videos=MOSE_VIDEOS, frames=40, size=SIZE, seed=15
        )
        rng = np.random.default_rng(16)
        for vid, lab in stacks.items():
            pred = gen.perturb(rng, lab, int(lab.max()))
            for t, m in enumerate(pred):
                gen.save_png(root / "res" / vid / f"{t:05d}.png", m)
        done.touch()
    return root, root / "res"


def youtube_reference(root: Path, res: Path) -> float:
    """Per object, every annotated frame after its first: official DAVIS J and F."""
    meta = json.loads((root / "train" / "meta.json").read_text())
    jf = []
    for vid in sorted(meta["videos"]):
        ann = root / "train" / "Annotations" / vid
        names = sorted(p.stem for p in ann.iterdir())
        for key, o in meta["videos"][vid]["objects"].items():
            k = int(key)
            js, fs = [], []
            for n in names:
                if n <= o["frames"][0]:
                    continue
                g = ref.read(str(ann / f"{n}.png")) == k
                p = ref.read(str(res / vid / f"{n}.png")) == k
                js.append(ref.db_eval_iou(g, p))
                fs.append(ref.f_measure(p, g))
            jf.append((np.mean(js) + np.mean(fs)) / 2)
    return float(np.mean(jf))


def _peak_rss_mb(code: str) -> float:
    """Peak resident memory (MB) of a fresh child process running ``code``: its ``VmHWM``,
    which starts afresh at exec (``ru_maxrss`` would carry the forking parent's pages)."""
    # Imported here, not at the top: children import this module (youtube_reference) with
    # tests/ first on sys.path, where ``conftest`` is the tests' one.
    from conftest import VMHWM_SRC

    script = (
        f"import sys; sys.path[:0] = [{str(TESTS)!r}, {str(Path(__file__).parent)!r}]\n"
        f"{VMHWM_SRC}\n"
        f"{code}\n"
        "print(vmhwm_kb())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return int(out.split()[-1]) / 1024.0


LVOS_GROUP = f"lvos 2 videos x {LVOS_FRAMES // 5} frames {SIZE[1]}x{SIZE[0]}"
MOSE_GROUP = f"mosev2 {MOSE_VIDEOS} videos x 40 frames {SIZE[1]}x{SIZE[0]}"
YT_GROUP = f"youtube-vos {YT_VIDEOS} videos x 9 frames {SIZE[1]}x{SIZE[0]}"


# Per protocol: the data, the keyword options, and the fewest objects a correct run scores.
FASTMASK_CASES = {
    "lvos": (_lvos, {"split": "valid"}, 1),
    "youtube-vos": (_youtube, {}, YT_VIDEOS),
    "mosev2": (_mose, {"split": "valid"}, 1),
}
GROUPS = {"lvos": LVOS_GROUP, "youtube-vos": YT_GROUP, "mosev2": MOSE_GROUP}


@pytest.mark.parametrize("protocol", list(FASTMASK_CASES))
def test_fastmask(benchmark: pytest.FixtureRequest, protocol: str) -> None:
    data, options, min_objects = FASTMASK_CASES[protocol]
    root, res = data()
    benchmark.group = GROUPS[protocol]
    benchmark.extra_info["impl"] = f"fastmask {protocol}"
    opts = "".join(f", {k}={v!r}" for k, v in options.items())
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb(
        f"import fastmask\nfastmask.evaluate({str(root)!r}, {str(res)!r}, {protocol!r}{opts})"
    )
    ev = benchmark.pedantic(
        fastmask.evaluate, (root, res, protocol), options, rounds=3, iterations=1
    )
    assert len(ev.objects) >= min_objects


def test_lvos_reference(benchmark: pytest.FixtureRequest) -> None:
    split, res = _lvos()
    benchmark.group = LVOS_GROUP
    benchmark.extra_info["impl"] = "lvos-evaluation steps"
    benchmark.extra_info["baseline"] = True
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb(
        "from dsref import ref\n"
        f"ref.lvos_evaluate({str(split)!r}, 'valid', {str(res)!r}, ['lvos01'])"
    )
    rows = benchmark.pedantic(
        ref.lvos_evaluate, (str(split), "valid", str(res), ["lvos01"]), rounds=1, iterations=1
    )
    ours = fastmask.evaluate(split, res, "lvos", split="valid")
    assert abs(ours.global_scores["J&F-Mean"] - rows[1]["J&F-Mean"]) < 1e-12


def test_youtube_reference(benchmark: pytest.FixtureRequest) -> None:
    root, res = _youtube()
    benchmark.group = YT_GROUP
    benchmark.extra_info["impl"] = "per-object DAVIS loop"
    benchmark.extra_info["baseline"] = True
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb(
        "from pathlib import Path\nfrom bench_datasets import youtube_reference\n"
        f"youtube_reference(Path({str(root)!r}), Path({str(res)!r}))"
    )
    jf = benchmark.pedantic(youtube_reference, (root, res), rounds=1, iterations=1)
    ev = fastmask.evaluate(root, res, "youtube-vos")
    mean = np.mean([(o.stats["J-Mean"] + o.stats["F-Mean"]) / 2 for o in ev.objects])
    assert abs(mean - jf) < 1e-12


def test_mosev2_reference(benchmark: pytest.FixtureRequest) -> None:
    root, res = _mose()
    benchmark.group = MOSE_GROUP
    benchmark.extra_info["impl"] = "MOSE-api score.py steps"
    benchmark.extra_info["baseline"] = True
    args = (str(root / "valid" / "meta.json"), str(root / "valid" / "Annotations"), str(res))
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb(
        f"from dsref import ref\nref.mosev2_score(*{args!r})"
    )
    _, _, text = benchmark.pedantic(ref.mosev2_score, args, rounds=1, iterations=1)
    ours = fastmask.evaluate(root, res, "mosev2", split="valid")
    assert ours.files()["scores.txt"] == text
