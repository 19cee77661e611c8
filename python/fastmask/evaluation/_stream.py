"""``Evaluator``: score predictions held in memory (numpy arrays, torch tensors, anything with
``__array__`` or DLPack on the CPU) while a training or inference loop produces them.

How it works: the ground truth is planned once with the protocol's own modules (``plan`` and
each protocol's ``prepare``: the frames each object is scored on, the label rule). ``add``
checks a label map against that plan (sequence, frame, shape, allowed labels), copies it and
queues it; one background thread per process hands the queued frames to the compiled engine
(``_engine.run_frames``: the ground truth decoded from its PNG, the result taken from the
array, the same per-frame J/F code as for files, on ``threads`` threads without the GIL). When
every scored frame of a video is in, the protocol's ``finish`` turns the frame scores into the
same ``Partial`` ``run_job`` gives, and ``result()`` merges them with ``Plan.merge``: the
numbers and files are those of ``fastmask.evaluate`` on the same labels written as PNGs.

At most ``max_pending`` frames wait or are being scored at any time: ``add`` blocks while the
limit is reached (back-pressure), so memory does not grow with the dataset. Nothing runs at
import or construction: the thread starts at the first ``add`` of each process, so an
``Evaluator`` created before ``fork`` (PyTorch DataLoader workers) works in the child, which
scores its own frames (frames queued but unscored at the fork are re-queued in the child).

``mosev2`` scores with its tool's numpy steps on PNG files: for it, the frames are written (fast
encoder) to ``save_to`` or a temporary folder, and each video is scored from there once complete.
"""

from __future__ import annotations

import difflib
import os
import queue
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fastmask import _fastmask
from fastmask._fastmask import EvaluationError
from fastmask.evaluation import _engine
from fastmask.evaluation._engine import JobScores, Rule
from fastmask.evaluation._jobs import Job, Partial
from fastmask.evaluation._plan import Plan, _threads, plan
from fastmask.evaluation._result import Evaluation
from fastmask.evaluation.protocols import get_protocol
from fastmask.evaluation.protocols._base import Work, pngs
from fastmask.evaluation.protocols._dataset import DatasetProtocol
from fastmask.evaluation.protocols.mose import MoseV2
from fastmask.png import png_info, write_png

SequenceCallback = Callable[[str, Evaluation], None]

#: Frames handed to the engine per call at most. Larger batches mean fewer calls, smaller
#: ones hold a sequence's result back less; 32 is a choice, not a measured figure.
BATCH = 32


@dataclass
class _Slot:
    """One scored frame pair: frame ``t`` of the work's frame job ``fj`` (``obj``: the SA-V
    object value whose mask is the result, ``None`` for the whole label map)."""

    fj: int
    t: int
    obj: int | None
    name: str  # the result path the PNG layout would have (errors name it)
    obj_name: str | None = None


@dataclass
class _Seq:
    job: Job
    work: Work
    slots: dict[str, list[_Slot]]
    frames: list[str]  # every frame name ``add`` accepts, in frame order
    shape: tuple[int, int] | None
    scores: dict[tuple[int, int], Any] = field(default_factory=dict)
    added: set[str] = field(default_factory=set)
    remaining: int = 0
    missing: int = 0
    partial: Partial | None = None
    written: set[str] = field(default_factory=set)  # mosev2: scored frames on disk
    #: SA-V per-object layout: object folder -> its label value, sorted by folder name
    objects: dict[str, int] = field(default_factory=dict)
    made: set[str] = field(default_factory=set)  # result folders made this round
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Item:
    seq: _Seq
    frame: str
    labels: np.ndarray
    slots: list[_Slot]
    write: bool
    missing: bool = False
    raw: bool = False  # an SA-V object's own mask (add(..., object=)), not a label map
    obj_name: str | None = None
    pooled: bool = False  # labels is a buffer of the Evaluator's pool


def _as_array(labels: Any) -> np.ndarray:
    if isinstance(labels, np.ndarray):
        return labels
    if hasattr(labels, "__dlpack__") and not hasattr(labels, "__array__"):
        return np.from_dlpack(labels)
    if hasattr(labels, "detach") and hasattr(labels, "cpu"):  # torch: no autograd, on the CPU
        labels = labels.detach()
        if str(getattr(labels, "device", "cpu")) != "cpu":
            raise ValueError(
                f"labels are on {labels.device}; move them to the CPU first (labels.cpu())"
            )
    return np.asarray(labels)


def _stem(path: str) -> str:
    base = os.path.basename(path)
    return base[: -len(".png")] if base.lower().endswith(".png") else base


def _suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class Evaluator:
    """Evaluate predictions as they are produced, without writing them to disk.

    Args:
        gt: the ground-truth root, as for ``fastmask.evaluate``.
        protocol: any of ``fastmask.evaluation.PROTOCOLS``.
        max_pending: frames queued or being scored at most; ``add`` blocks beyond (memory is
            about ``max_pending`` x H x W bytes whatever the dataset length).
        threads: engine threads (default ``fastmask.evaluation.default_threads()``).
        save_to: also write each added frame as a palette PNG (atomic, fast encoder) in the
            layout ``fastmask.evaluate`` reads (``<save_to>/<sequence>/<frame>.png``; SA-V:
            ``<save_to>/<video>/<object>/<frame>.png``), so a submission comes out of the
            same pass.
        allow_missing: ``result()`` scores frames never added as empty masks (else it raises
            naming them).
        on_sequence: ``f(name, evaluation)`` called (on the scoring thread) as soon as every
            scored frame of a sequence is in; ``evaluation`` is that sequence's ``Evaluation``.
        copy: ``False`` when the caller does not reuse the arrays it adds (a fresh
            ``argmax`` per frame): ``add`` then keeps a reference instead of a copy (no pass
            over the frame on the caller; 410 KB per 854x480 frame), and a label the
            protocol forbids is reported by the next ``add`` / ``result()`` instead.
        **options: every other option of ``fastmask.evaluate`` (``task``, ``subset``,
            ``split``, ``sequences``, ``bound_th``, ``decay``, ``max_pixels``, ...).

    Label maps are ``(H, W)`` ``uint8`` (``uint16`` / other integers / ``bool`` when every
    value is in 0..255), the values the PNG would hold: object ids (SA-V, whose object
    folders are numbered from ``000``: label k + 1 is the object of folder k, e.g. 1 for
    ``000``; or one object at a time with ``add(..., object="000")``).

    Example:
        >>> ev = fastmask.evaluation.Evaluator("DAVIS", "davis2017")  # doctest: +SKIP
        >>> for name, frames in loader:  # doctest: +SKIP
        ...     ev.add_video(name, model(frames).argmax(1).byte())
        >>> ev.result().global_scores["J&F-Mean"]  # doctest: +SKIP
        0.812
    """

    def __init__(
        self,
        gt: str | os.PathLike[str],
        protocol: str = "davis2017",
        *,
        max_pending: int = 64,
        threads: int | None = None,
        save_to: str | os.PathLike[str] | None = None,
        allow_missing: bool = False,
        on_sequence: SequenceCallback | None = None,
        copy: bool = True,
        **options: Any,
    ) -> None:
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"max_pending must be a positive integer, got {max_pending!r}")
        self.protocol = protocol
        self.max_pending = max_pending
        self.threads = _threads(threads)
        self.on_sequence = on_sequence
        self.copy = copy
        self._rules = get_protocol(protocol)
        self._save_to = None if save_to is None else os.fspath(save_to)
        self._tmp: str | None = None
        if self._rules.scores_from_files and self._save_to is None:
            self._tmp = tempfile.mkdtemp(prefix="fastmask-mosev2-")
        self._tmp_owner = os.getpid()  # a forked child leaves the parent's folder alone
        results = self._save_to or self._tmp or "<arrays>"
        self.plan: Plan = plan(gt, results, protocol, allow_missing=allow_missing, **options)
        # Prepared with every result "missing": no result file is looked for; slots below say
        # which frames each job needs.
        self._relaxed = replace(
            self.plan.settings,
            allow_missing=True,
            results=os.path.join(tempfile.gettempdir(), "fastmask-no-results", os.urandom(8).hex()),
        )
        self._names = {j.sequence: j for j in self.plan.jobs}
        self._seqs: dict[str, _Seq] = {}
        self._finished = False
        self._pid = -1
        self._reset_process()

    # ----- process and thread state ------------------------------------------------------

    def _reset_process(self) -> None:
        """Fresh locks, queue and no thread: at construction and in a forked child (whose
        copies of the parent's locks may be held by a thread that does not exist there)."""
        carried: list[_Item] = []
        if self._pid != -1:
            carried = list(getattr(self, "_inflight", [])) + [
                i for i in list(self._queue.queue) if i is not None
            ]
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._slots = threading.BoundedSemaphore(self.max_pending)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._inflight: list[_Item] = []
        self._pending = 0
        self._errors: list[BaseException] = []
        self._thread: threading.Thread | None = None
        self._free: dict[tuple[int, ...], list[np.ndarray]] = {}
        for item in carried:
            self._slots.acquire()
            self._pending += 1
            self._queue.put(item)

    def _ensure(self) -> None:
        if self._pid != os.getpid():
            self._reset_process()
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    ref = weakref.ref(self)
                    self._thread = threading.Thread(
                        target=_worker, args=(ref, self._queue), daemon=True, name="fastmask-eval"
                    )
                    self._thread.start()

    def _raise_pending_error(self) -> None:
        with self._lock:
            if self._errors:
                err = self._errors[0]
                self._errors.clear()
                raise err

    def close(self) -> None:
        """Stop the scoring thread (frames still queued are scored first) and remove the
        temporary folder (mosev2 without ``save_to``)."""
        if self._pid == os.getpid() and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._tmp is not None and self._tmp_owner == os.getpid():
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    _RUNTIME = ("_lock", "_idle", "_slots", "_queue", "_inflight", "_thread", "_free", "_errors")

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (a ``spawn`` DataLoader worker, a process pool) with its plan and the
        scores so far; frames still queued are scored first."""
        self.wait()
        state = {k: v for k, v in self.__dict__.items() if k not in self._RUNTIME}
        state["_pid"] = -1
        state["_pending"] = 0
        state["_tmp"] = None  # the creator removes its temporary folder
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_process()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_pid", None) == os.getpid() and self._thread is not None:
                self._queue.put(None)
            tmp = getattr(self, "_tmp", None)
            if tmp is not None and self._tmp_owner == os.getpid():
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    # ----- the plan per sequence ---------------------------------------------------------

    @property
    def sequences(self) -> list[str]:
        """The sequences of the plan, in the tool's order."""
        return [j.sequence for j in self.plan.jobs]

    def frames(self, sequence: str) -> list[str]:
        """The frame names ``add`` accepts for ``sequence`` (an ``int`` frame is an index into
        this list); ``add_video`` takes them in this order."""
        return list(self._seq(sequence).frames)

    def scored_frames(self, sequence: str) -> list[str]:
        """The frames the protocol scores for ``sequence`` (the others are accepted and only
        written with ``save_to``)."""
        s = self._seq(sequence)
        return [f for f in s.frames if f in s.slots]

    def _seq(self, sequence: str) -> _Seq:
        s = self._seqs.get(sequence)
        if s is not None:
            return s
        job = self._names.get(sequence)
        if job is None:
            raise KeyError(
                f"unknown sequence {sequence!r} ({self.protocol}, {len(self._names)} sequences)"
                + _suggest(str(sequence), list(self._names))
            )
        with self._lock:
            s = self._seqs.get(sequence)
            if s is None:
                s = self._prepare(job)
                self._seqs[sequence] = s
        return s

    def _prepare(self, job: Job) -> _Seq:
        relaxed = Job(job.index, job.sequence, self._relaxed, job.data)
        if self._rules.scores_from_files:
            return self._prepare_mosev2(job)
        work = self._rules.prepare(relaxed)
        sav_objects = self._rules.object_folders and work.rule.binarize
        root = self._save_to or "<arrays>"
        slots: dict[str, list[_Slot]] = {}
        objects: dict[str, int] = {}
        folders: list[str] = []
        for i, fj in enumerate(work.frame_jobs):
            obj_name = work.state[i][0] if sav_objects else None
            obj: int | None = None
            if obj_name is not None:
                if not str(obj_name).isdigit():
                    raise EvaluationError(
                        f"SA-V object folder {obj_name!r} of video {job.sequence!r} is not a "
                        "number: label maps cannot name it"
                    )
                # SA-V numbers its objects from 000: label 0 is the background.
                obj = int(obj_name) + 1
                if fj.gt:
                    objects[obj_name] = obj
            for t, g in enumerate(fj.gt):
                frame = _stem(g)
                parts = [root, job.sequence] + ([str(obj_name)] if obj_name is not None else [])
                name = os.path.join(*parts, f"{frame}.png")
                slots.setdefault(frame, []).append(_Slot(i, t, obj, name, obj_name))
            if fj.gt:
                d = os.path.dirname(fj.gt[0])
                if d not in folders:
                    folders.append(d)
        known = set(slots)
        for d in folders:
            known.update(_stem(n) for n in pngs(Path(d)))
        if isinstance(self._rules, DatasetProtocol):
            known.update(self._rules.video(relaxed).frames)
        from fastmask.datasets._base import frame_sort_key

        shape = None
        first = next((fj.gt[0] for fj in work.frame_jobs if fj.gt), None)
        if first is not None:
            info = png_info(first)
            shape = (info.height, info.width)
        s = _Seq(relaxed, work, slots, sorted(known, key=frame_sort_key), shape)
        s.objects = dict(sorted(objects.items(), key=lambda kv: str(kv[0])))
        s.remaining = sum(len(v) for v in slots.values())
        if s.remaining == 0:
            self._complete(s)
        return s

    def _prepare_mosev2(self, job: Job) -> _Seq:
        from fastmask.datasets._base import frame_sort_key

        video, entry = job.data
        frames = MoseV2.scored_frames(video, entry)
        root = self.plan.settings.results
        slots = {
            f: [_Slot(0, t, None, os.path.join(root, job.sequence, f"{f}.png"))]
            for t, f in enumerate(frames)
        }
        known = set(video.frames) | set(video.annotated)
        shape = video.size if video.annotated else None
        s = _Seq(job, Work(), slots, sorted(known, key=frame_sort_key), shape)
        s.remaining = len(frames)
        return s

    # ----- adding ------------------------------------------------------------------------

    def add(
        self, sequence: str, frame: str | int, labels: Any, *, object: str | None = None
    ) -> None:
        """Queue the ``(H, W)`` label map of one frame (copied; returns once queued, or after
        waiting while ``max_pending`` frames are pending). ``frame``: its name (``"00005"``,
        ``"00005.png"``) or its index in :meth:`frames`. ``object``: SA-V only, the mask of
        one object (its folder name, e.g. ``"001"``) as its own PNG would hold it, for
        objects that overlap (a label map cannot hold them).

        Raises ``KeyError`` for an unknown sequence or frame (naming close matches),
        ``ValueError`` for a wrong shape or dtype, a label the protocol forbids or a frame
        added twice, and re-raises a failure of the scoring thread.

        Example:
            >>> ev.add("bike-packing", "00001", labels)  # doctest: +SKIP
        """
        arr = _as_array(labels)
        self._add(sequence, frame, arr, object)

    def add_video(
        self, sequence: str, labels: Any, frames: Sequence[str | int] | None = None
    ) -> None:
        """Queue a ``(T, H, W)`` stack: the frames of :meth:`frames` (``T`` equal to their
        number), or of :meth:`scored_frames` (``T`` equal to that), or ``frames=``.

        Example:
            >>> ev.add_video("bike-packing", np.stack(masks))  # doctest: +SKIP
        """
        arr = _as_array(labels)
        if arr.ndim != 3:
            raise ValueError(f"add_video takes a (T, H, W) stack, got shape {arr.shape}")
        if frames is None:
            every = self.frames(sequence)
            scored = self.scored_frames(sequence)
            if len(arr) == len(every):
                names: Sequence[str | int] = every
            elif len(arr) == len(scored):
                names = scored
            else:
                raise ValueError(
                    f"{len(arr)} label maps for sequence {sequence!r}, which has {len(every)} "
                    f"frames ({len(scored)} scored); pass frames= to name them"
                )
        else:
            names = frames
            if len(names) != len(arr):
                raise ValueError(f"{len(arr)} label maps but {len(names)} frame names")
        for name, lab in zip(names, arr):
            self._add(sequence, name, lab)

    def _add(
        self,
        sequence: str,
        frame: str | int,
        arr: np.ndarray,
        obj: str | None = None,
    ) -> None:
        self._ensure()
        self._raise_pending_error()
        if self._finished:
            raise EvaluationError(
                "result() was called: this round is finished (reset() starts a new one)"
            )
        s = self._seq(sequence)
        name = self._frame_name(s, frame)
        if arr.ndim != 2:
            raise ValueError(f"{sequence}/{name}: labels must be (H, W), got shape {arr.shape}")
        arr, pooled = self._labels(s, name, arr)
        slots = s.slots.get(name, [])
        key = name
        if obj is not None:
            slots = [sl for sl in slots if sl.obj_name == str(obj)]
            objs = list(s.objects)
            if str(obj) not in objs:
                raise KeyError(
                    f"{sequence}/{name}: unknown object {obj!r} (objects: "
                    f"{', '.join(objs) or 'none: object= is for the SA-V per-object layout'})"
                )
            key = f"{name}/{obj}"
        with self._lock:
            if (
                key in s.added
                or name in s.added
                or (obj is None and any(f"{name}/{sl.obj_name}" in s.added for sl in slots))
            ):
                raise ValueError(f"{sequence}/{key}: frame added twice")
            s.added.add(key)
        write = self._save_to is not None or self._rules.scores_from_files
        if not slots and not write:
            if pooled:
                self._recycle(arr)
            return
        self._slots.acquire()
        with self._lock:
            self._pending += 1
        item = _Item(s, name, arr, slots, write, raw=obj is not None, obj_name=obj)
        item.pooled = pooled
        self._queue.put(item)

    def _frame_name(self, s: _Seq, frame: str | int) -> str:
        if isinstance(frame, (int, np.integer)) and not isinstance(frame, bool):
            i = int(frame)
            if not -len(s.frames) <= i < len(s.frames):
                raise KeyError(
                    f"frame index {i} out of range: sequence {s.job.sequence!r} has "
                    f"{len(s.frames)} frames"
                )
            return s.frames[i]
        name = _stem(str(frame))
        if name not in s.slots and name not in s.frames:
            raise KeyError(
                f"unknown frame {frame!r} of sequence {s.job.sequence!r} (frames "
                f"{s.frames[0] if s.frames else ''}..{s.frames[-1] if s.frames else ''})"
                + _suggest(name, s.frames)
            )
        return name

    def _labels(self, s: _Seq, name: str, arr: np.ndarray) -> tuple[np.ndarray, bool]:
        """The labels to queue (checked) and whether they are a pooled copy."""
        where = f"{s.job.sequence}/{name}"
        if arr.dtype != np.uint8:
            if arr.dtype == np.bool_:
                arr = arr.view(np.uint8)
            elif np.issubdtype(arr.dtype, np.integer):
                if arr.size and (int(arr.max()) > 255 or int(arr.min()) < 0):
                    raise ValueError(
                        f"{where}: labels must be in 0..255 (evaluation reads 8-bit label "
                        f"maps), found {int(arr.min())}..{int(arr.max())}"
                    )
                arr = arr.astype(np.uint8)
            else:
                raise ValueError(f"{where}: labels must be an integer array, got {arr.dtype}")
        if s.shape is not None and arr.shape != s.shape:
            h, w = s.shape
            rotated = (
                "; the result looks rotated by 90 degrees (portrait video decoded without its "
                "rotation?)"
                if arr.shape == (w, h)
                else ""
            )
            raise ValueError(
                f"{where}: result is {arr.shape[0]}x{arr.shape[1]} (HxW) but the ground truth "
                f"is {h}x{w}{rotated}"
            )
        fjs = s.work.frame_jobs
        slots = s.slots.get(name, ()) if fjs else ()
        limit = min((fjs[sl.fj].max_pred_label for sl in slots), default=255)
        if not self.copy and arr.flags.c_contiguous:
            # The caller hands the array over: the scoring thread checks the labels (the
            # engine's own check) and a failure is raised by the next add() / result().
            return arr, False
        # A copy (the caller may reuse its buffer for the next frame), into a buffer the
        # scoring thread gave back: no page faults on fresh memory for every frame.
        buf = self._buffer(arr.shape)
        if arr.flags.c_contiguous:
            top = _fastmask._copy_labels(arr, buf)
        else:
            np.copyto(buf, arr)
            top = int(buf.max()) if limit < 255 and buf.size else 0
        if top > limit:
            self._recycle(buf)
            raise ValueError(
                f"{where}: result label {top} is not allowed: labels must be at most "
                f"{limit} for sequence {s.job.sequence!r} (DAVIS semi-supervised: the "
                "objects of the ground truth's first frame; unsupervised: at most 20 "
                "proposals)"
            )
        return buf, True

    def _buffer(self, shape: tuple[int, ...]) -> np.ndarray:
        with self._lock:
            free = self._free.get(shape)
            if free:
                return free.pop()
        return np.empty(shape, np.uint8)

    def _recycle(self, buf: np.ndarray) -> None:
        with self._lock:
            free = self._free.setdefault(buf.shape, [])
            if len(free) < self.max_pending:
                free.append(buf)

    # ----- scoring (the background thread) -----------------------------------------------

    def _process(self, items: list[_Item]) -> None:
        try:
            self._score(items)
        except BaseException as e:  # reported at the next add() / result()
            with self._lock:
                self._errors.append(e)
        finally:
            with self._lock:
                self._inflight = []
                self._pending -= len(items)
                self._idle.notify_all()
            for item in items:
                if item.pooled:
                    self._recycle(item.labels)
                self._slots.release()

    def _score(self, items: list[_Item]) -> None:
        for item in items:
            if item.write:
                self._write(item)
        groups: dict[Rule, list[tuple[_Item, _Slot, np.ndarray]]] = {}
        for item in items:
            if self._rules.scores_from_files:
                continue
            for sl in item.slots:
                whole = sl.obj is None or item.raw
                lab = item.labels if whole else (item.labels == sl.obj).view(np.uint8)
                groups.setdefault(item.seq.work.rule, []).append((item, sl, lab))
        st = self.plan.settings
        done: list[_Seq] = []
        for rule, entries in groups.items():
            fjs = [e[0].seq.work.frame_jobs[e[1].fj] for e in entries]
            scores, stage = _engine.run_frames(
                [fj.gt[e[1].t] for fj, e in zip(fjs, entries)],
                [e[2] for e in entries],
                [e[1].name for e in entries],
                fjs,
                rule,
                bound_th=st.bound_th,
                threads=self.threads,
                colormap=st.colormap,
                max_pixels=st.max_pixels,
            )
            with self._lock:
                for (item, sl, _), sc in zip(entries, scores):
                    s = item.seq
                    # A frame re-queued after a fork may have been scored already.
                    if s.partial is not None or (sl.fj, sl.t) in s.scores:
                        continue
                    s.scores[(sl.fj, sl.t)] = sc
                    s.missing += item.missing
                    s.remaining -= 1
                    if s.remaining == 0:
                        done.append(s)
                share = 1.0 / len(entries)
                for item, _, _ in entries:
                    for k, v in stage.items():
                        item.seq.timings[k] = item.seq.timings.get(k, 0.0) + v * share
        if self._rules.scores_from_files:
            with self._lock:
                for item in items:
                    s = item.seq
                    if item.slots and s.partial is None and item.frame not in s.written:
                        s.written.add(item.frame)
                        s.remaining -= 1
                        s.missing += item.missing
                        if s.remaining == 0:
                            done.append(s)
        for s in done:
            self._complete(s)

    def _write(self, item: _Item) -> None:
        s = item.seq
        if item.obj_name is not None:
            folder = self._folder(s, item.obj_name)
            write_png(os.path.join(folder, f"{item.frame}.png"), item.labels)
            return
        if self._rules.object_folders and s.work.rule.binarize:
            # Every object of the video, scored on this frame or not (a complete submission).
            for name, value in s.objects.items():
                folder = self._folder(s, name)
                write_png(
                    os.path.join(folder, f"{item.frame}.png"), (item.labels == value).view(np.uint8)
                )
            return
        write_png(os.path.join(self._folder(s), f"{item.frame}.png"), item.labels)

    def _folder(self, s: _Seq, *parts: str) -> str:
        """The result folder of ``s`` (or of one of its SA-V objects), made on first use."""
        folder = os.path.join(self.plan.settings.results, s.job.sequence, *parts)
        if folder not in s.made:
            os.makedirs(folder, exist_ok=True)
            s.made.add(folder)
        return folder

    def _complete(self, s: _Seq) -> None:
        """Every scored frame of ``s`` is in: the protocol's ``finish``, then ``on_sequence``."""
        t0 = time.perf_counter()
        # No frame jobs (and so no tables) when the protocol scores the files itself.
        tables = [_table(s, i, fj, s.work.rule) for i, fj in enumerate(s.work.frame_jobs)]
        scored = self._rules.finish(s.job, s.work, tables, self.threads)
        timings = dict(s.timings)
        timings["finish"] = time.perf_counter() - t0
        s.partial = Partial.from_scored(s.job, scored, timings, s.missing)
        s.scores.clear()
        if self.on_sequence is not None:
            self.on_sequence(s.job.sequence, self.plan._evaluation([s.partial]))

    # ----- results -----------------------------------------------------------------------

    def wait(self) -> None:
        """Block until every queued frame is scored (re-raising a scoring failure)."""
        if self._pid != os.getpid():
            self._ensure()  # a forked child scores the frames it inherited queued
        if self._thread is not None:
            with self._idle:
                while self._pending:
                    self._idle.wait(0.1)
        self._raise_pending_error()

    def sequence_result(self, sequence: str) -> Evaluation | None:
        """The ``Evaluation`` of one sequence once all its scored frames are in and scored
        (``None`` before).

        Example:
            >>> ev.sequence_result("bike-packing").global_scores["J&F-Mean"]  # doctest: +SKIP
            0.78
        """
        s = self._seq(sequence)
        if s.partial is None:
            self.wait()
        return None if s.partial is None else self.plan._evaluation([s.partial])

    def missing_frames(self) -> dict[str, list[str]]:
        """Per sequence, the scored frames not added yet (SA-V objects added one by one:
        ``frame/object``)."""
        return {k: [n for n, _ in v] for k, v in self._missing().items()}

    def _missing(self) -> dict[str, list[tuple[str, list[_Slot]]]]:
        out: dict[str, list[tuple[str, list[_Slot]]]] = {}
        for job in self.plan.jobs:
            s = self._seq(job.sequence)
            for f in s.frames:
                if f not in s.slots or f in s.added:
                    continue
                absent = [sl for sl in s.slots[f] if f"{f}/{sl.obj_name}" not in s.added]
                if not absent:
                    continue
                if len(absent) == len(s.slots[f]):
                    out.setdefault(job.sequence, []).append((f, absent))
                else:
                    out.setdefault(job.sequence, []).extend(
                        (f"{f}/{sl.obj_name}", [sl]) for sl in absent
                    )
        return out

    def result(self) -> Evaluation:
        """Wait for the queued frames and return the ``Evaluation`` (the same numbers and
        files as ``fastmask.evaluate`` on the added frames written as PNGs). A scored frame
        never added is an error naming them all, or an empty mask with ``allow_missing``.

        Example:
            >>> ev.result().write("out")  # doctest: +SKIP
        """
        self._ensure()
        self.wait()
        slots_missing = self._missing()
        missing = {k: [n for n, _ in v] for k, v in slots_missing.items()}
        if self._rules.scores_from_files:
            # score.py: a video with no result folder scores 0; a partial one is an error.
            for name in [n for n, fr in missing.items() if not self._seq(n).added]:
                s = self._seq(name)
                self._complete(s)
                del missing[name]
        if missing and not self.plan.settings.allow_missing:
            n = sum(len(v) for v in missing.values())
            shown = "; ".join(
                f"{k}: {', '.join(v[:5])}{f' and {len(v) - 5} more' if len(v) > 5 else ''}"
                for k, v in list(missing.items())[:10]
            )
            more = f"; and {len(missing) - 10} more sequences" if len(missing) > 10 else ""
            raise EvaluationError(
                f"{n} scored frame(s) in {len(missing)} sequence(s) never added: {shown}{more} "
                "(allow_missing=True scores them as empty masks)"
            )
        for name in missing:
            s = self._seq(name)
            for f, slots in slots_missing[name]:
                # Scored as the engine scores an absent file: an all-zero mask of the ground
                # truth's size.
                info = png_info(s.work.frame_jobs[slots[0].fj].gt[slots[0].t])
                empty = np.zeros((info.height, info.width), np.uint8)
                self._slots.acquire()
                with self._lock:
                    self._pending += 1
                self._queue.put(_Item(s, f, empty, slots, False, missing=True, raw=True))
        self.wait()
        partials = []
        for job in self.plan.jobs:
            s = self._seq(job.sequence)
            if s.partial is None:
                raise EvaluationError(f"sequence {job.sequence!r} was not completed")
            partials.append(s.partial)
        self._finished = True
        ev = self.plan.merge(partials)
        self.close()
        return ev

    def reset(self) -> None:
        """Forget every added frame and score a new round against the same plan (the next
        validation pass of a training run: the ground truth is not listed or planned again).

        Example:
            >>> for epoch in range(epochs):  # doctest: +SKIP
            ...     ev.reset()
            ...     for name, frames in val_loader:
            ...         ev.add_video(name, predict(frames))
            ...     log(ev.result().global_scores["J&F-Mean"])
        """
        self.wait()
        with self._lock:
            for s in self._seqs.values():
                s.scores.clear()
                s.added.clear()
                s.written.clear()
                s.made.clear()
                s.timings = {}
                s.missing = 0
                s.partial = None
                s.remaining = sum(len(v) for v in s.slots.values())
            self._finished = False
            self.plan.started = time.time()
        if self._rules.scores_from_files:
            if self._save_to is None:
                shutil.rmtree(self.plan.settings.results, ignore_errors=True)
                self._tmp = self.plan.settings.results
                self._tmp_owner = os.getpid()
            os.makedirs(self.plan.settings.results, exist_ok=True)
        for s in self._seqs.values():
            if s.remaining == 0 and not self._rules.scores_from_files:
                self._complete(s)


def _table(s: _Seq, i: int, fj: Any, rule: Rule) -> JobScores:
    """One frame job's frames x pairs table from its frame scores, as the engine assembles
    it (``eval::assemble``): pairs sorted, NaN where a pair was not scored on a frame."""
    rows = [s.scores[(i, t)] for t in range(len(fj.gt))]
    if rule.same_size and rows:
        first = tuple(rows[0][5])
        for t, r in enumerate(rows):
            if tuple(r[5]) != first:
                raise EvaluationError(
                    f"{fj.gt[t]}: frame is {r[5][0]}x{r[5][1]} (HxW) but the first scored frame "
                    f"of the sequence ({fj.gt[0]}) is {first[0]}x{first[1]}; all frames of a "
                    "sequence must have one size"
                )
    keys = sorted({(int(a), int(b)) for r in rows for a, b in r[0]})
    col = {k: c for c, k in enumerate(keys)}
    nt, np_ = len(rows), len(keys)
    j = np.full((nt, np_), np.nan)
    f = np.full((nt, np_), np.nan)
    for t, r in enumerate(rows):
        cols = [col[(int(a), int(b))] for a, b in r[0]]
        j[t, cols] = r[1]
        f[t, cols] = r[2]
    pairs = np.array(keys, dtype=np.uint8).reshape(np_, 2)
    gt_present = np.array([r[3] for r in rows], dtype=bool).reshape(nt, 256)
    pred_present = np.array([r[4] for r in rows], dtype=bool).reshape(nt, 256)
    shapes = np.array([r[5] for r in rows], dtype=np.int64).reshape(nt, 2)
    return JobScores(pairs, j, f, gt_present, pred_present, shapes)


def _worker(ref: weakref.ref[Evaluator], q: queue.Queue[_Item | None]) -> None:
    """The scoring thread: batches of queued frames to the engine until told to stop or the
    evaluator is gone."""
    while True:
        item = q.get()
        if item is None:
            return
        batch = [item]
        stop = False
        while len(batch) < BATCH:
            try:
                nxt = q.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                stop = True
                break
            batch.append(nxt)
        ev = ref()
        if ev is None:
            return
        with ev._lock:
            ev._inflight = list(batch)
        ev._process(batch)
        del ev
        if stop:
            return
