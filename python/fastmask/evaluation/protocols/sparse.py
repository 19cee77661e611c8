"""``sparse``: DAVIS-layout ground truth where only some frames are annotated.

Real-world sets (RVOS-style phone videos with ~35 annotated frames per video, GyGO-style
e-commerce videos annotated at ~5 fps) ship DAVIS folders (``Annotations/<res>/<seq>/``,
``JPEGImages/<res>/<seq>/``, ``ImageSets/<year>/<set>.txt``) in which most frames have no PNG.
This protocol scores exactly the frames that have ground truth:

- objects: ``objects="first-frame"`` (default, the DAVIS rule: 1..N, N the largest label of the
  first annotated frame, void 255 excluded) or ``"all"`` (every label of the ground truth,
  each scored from the first annotated frame where it appears, for objects that enter later);
- frames: every annotated frame after the object's first one (``skip_first=True``, default: the
  first annotated frame is the mask a semi-supervised method is given); ``skip_first=False``
  scores it too. The last frame is not dropped. Result frames without ground truth are ignored;
- J and F as DAVIS semi-supervised (255 counts as background), DAVIS Mean / Recall / Decay
  per object, every object weighing the same;
- sizes: each video has its own (portrait videos are fine); a result whose height and width are
  swapped is reported as rotated.

Files: ``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv`` in the
davis2017-evaluation format.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastmask.datasets import DAVIS
from fastmask.evaluation._engine import JobScores
from fastmask.evaluation._jobs import Job, Settings
from fastmask.evaluation._result import Evaluation, ObjectScore, davis_files, davis_stats
from fastmask.evaluation.protocols._base import Scored, Work, diagonal, select, warn_extra
from fastmask.evaluation.protocols._dataset import DatasetProtocol


class Sparse(DatasetProtocol):
    name = "sparse"
    keywords: ClassVar[dict[str, Any]] = {
        "year": 2017,
        "objects": "first-frame",
        "skip_first": True,
    }

    def configure(self, common: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        o = super().configure(common, options)
        o["subset"] = common["subset"]
        o["resolution"] = common["resolution"]
        return o

    def public_options(self, settings: Settings) -> dict[str, Any]:
        o = settings.options
        return {
            "subset": o["subset"],
            "objects": o["objects"],
            "skip_first": o["skip_first"],
            "decay": settings.decay,
        }

    def discover(self, settings: Settings, sequences: list[str] | None) -> list[tuple[str, Any]]:
        o = settings.options
        ds = DAVIS(
            settings.gt,
            o["subset"],
            year=o["year"],
            resolution=o["resolution"],
            objects=o["objects"],
        )
        names = select(ds.names, sequences, ds.mask_root)
        warn_extra(settings, names, sequences)
        return [(n, ds[n]) for n in names]

    def prepare(self, job: Job) -> Work:
        video = self.video(job)
        skip = 1 if job.settings.options["skip_first"] else 0
        ann = video.annotated
        objs = video.objects
        if not ann or not objs:
            return Work()
        first_idx = {k: ann.index(o.first_frame or ann[0]) for k, o in objs.items()}
        lo = min(first_idx.values()) + skip
        frames = ann[lo:]
        if not frames:
            return Work()
        ids = sorted(objs)
        work, missing = self.engine_job(job, video, frames, ids)
        work.state = (frames, ids, first_idx, lo, missing)
        return work

    def finish(self, job: Job, work: Work, scores: list[JobScores], threads: int) -> Scored:
        if work.state is None:
            return Scored([], 0, counted=False)
        frames, ids, first_idx, lo, missing = work.state
        skip = 1 if job.settings.options["skip_first"] else 0
        jall, fall = diagonal(scores[0], ids)
        name = job.sequence
        out = []
        for col, oid in enumerate(ids):
            start = first_idx[oid] + skip - lo
            if start >= len(frames):
                continue
            j, f = jall[start:, col], fall[start:, col]
            stats = davis_stats(j, f, job.settings.decay)
            out.append(ObjectScore(name, oid, f"{name}_{oid}", frames[start:], j, f, stats=stats))
        n_frames = len({fr for o in out for fr in o.frames})
        return Scored(out, n_frames, missing, counted=bool(out))

    def files(self, ev: Evaluation) -> dict[str, str]:
        return davis_files(ev.objects, ev.options["subset"] or "all")
