"""Batches: read_pngs / write_pngs agree with the single-file calls, name failing files, leave
nothing behind on failure, and work in a process forked after the parent used them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import corpus_pngs
from fastmask import PngError
from PIL import Image


def _stack(t: int = 6, h: int = 31, w: int = 45, dtype: type = np.uint8) -> np.ndarray:
    rng = np.random.default_rng(t * h * w)
    s = np.zeros((t, h, w), dtype)
    for i in range(t):
        s[i, i : i + h // 2, 3 + i : w // 2 + i] = 1 + i
        s[i][rng.random((h, w)) < 0.02] = 7 if dtype == np.uint8 else 60000
    return s


def _paths(folder: Path, n: int) -> list[Path]:
    return [folder / f"{i:05d}.png" for i in range(n)]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.bool_])
@pytest.mark.parametrize("threads", [1, 2, None])
def test_batch_equals_single_calls(tmp_path: Path, dtype: type, threads: int | None) -> None:
    stack = _stack(dtype=np.uint8).astype(dtype) if dtype == np.bool_ else _stack(dtype=dtype)
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack, threads=threads)
    for p, frame in zip(paths, stack):
        assert p.read_bytes() == fastmask.encode_png(frame)
    back = fastmask.read_pngs(paths, threads=threads)
    want = stack.astype(np.uint16 if dtype == np.uint16 else np.uint8)
    assert back.dtype == want.dtype and back.shape == want.shape
    assert np.array_equal(back, want)
    assert np.array_equal(back, np.stack([fastmask.read_png(p) for p in paths]))
    assert sorted(os.listdir(tmp_path)) == [p.name for p in paths]


def test_batch_with_palette_and_compression(tmp_path: Path) -> None:
    stack = _stack()
    paths = [str(p) for p in _paths(tmp_path, len(stack))]
    pal = [[0, 0, 0], [255, 255, 255]]
    fastmask.write_pngs(paths, stack, pal, compression=9, threads=2)
    for p, frame in zip(paths, stack):
        assert Path(p).read_bytes() == fastmask.encode_png(frame, pal, compression=9)


def test_read_pngs_on_real_sequences() -> None:
    seqs = sorted({p.parent for p in corpus_pngs("davis2017-osvos")})[:3]
    seqs += sorted({p.parent for p in corpus_pngs("davis2016")})[:2]
    if not seqs:
        pytest.skip("corpus not available")
    for seq in seqs:
        frames = sorted(seq.glob("*.png"))
        masks = fastmask.read_pngs(frames, threads=2)
        assert masks.shape[0] == len(frames)
        for i in (0, len(frames) // 2, len(frames) - 1):
            with Image.open(frames[i]) as im:
                ref = np.array(im)
            ref = ref[..., 0] if ref.ndim == 3 else ref  # one gray+alpha frame in davis2016
            assert np.array_equal(masks[i], ref), frames[i]


def test_errors_name_the_failing_file(tmp_path: Path) -> None:
    stack = _stack()
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack)
    data = paths[3].read_bytes()
    paths[3].write_bytes(data[: len(data) // 2])
    for threads in (1, 2):
        with pytest.raises(PngError, match=f"{paths[3].name}: truncated"):
            fastmask.read_pngs(paths, threads=threads)
    paths[3].unlink()
    with pytest.raises(FileNotFoundError) as e:
        fastmask.read_pngs(paths, threads=2)
    assert e.value.filename == str(paths[3])


def test_size_mismatch_names_both_files_and_sizes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    fastmask.write_png(a, np.zeros((480, 854), np.uint8))
    fastmask.write_png(b, np.zeros((480, 910), np.uint8))
    fastmask.write_png(c, np.zeros((480, 854), np.uint16))
    with pytest.raises(ValueError, match=r"a\.png is 854 x 480 .*uint8 but .*b\.png is 910 x 480"):
        fastmask.read_pngs([a, b])
    with pytest.raises(
        ValueError, match=r"a\.png is 854 x 480 .*uint8 but .*c\.png is 854 x 480 .*uint16"
    ):
        fastmask.read_pngs([a, c])


def test_bad_batch_arguments(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    fastmask.write_png(p, np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="not a single path"):
        fastmask.read_pngs(str(p))
    with pytest.raises(ValueError, match="at least one path"):
        fastmask.read_pngs([])
    with pytest.raises(ValueError, match="threads"):
        fastmask.read_pngs([p], threads=0)
    with pytest.raises(ValueError, match="2 paths for a stack of 3 frames"):
        fastmask.write_pngs([p, p], np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="3-D"):
        fastmask.write_pngs([p], np.zeros((2, 2), np.uint8))


def test_failed_batch_write_leaves_nothing(tmp_path: Path) -> None:
    stack = _stack()
    paths = _paths(tmp_path, len(stack))
    paths[0].write_bytes(b"old")
    paths[4] = tmp_path / "missing" / "00004.png"
    with pytest.raises(FileNotFoundError, match=r"00004\.png"):
        fastmask.write_pngs(paths, stack, threads=2)
    assert sorted(os.listdir(tmp_path)) == ["00000.png"]
    assert paths[0].read_bytes() == b"old"


def test_failed_rename_in_a_batch_removes_the_remaining_temporaries(tmp_path: Path) -> None:
    stack = _stack()
    paths = _paths(tmp_path, len(stack))
    paths[2].mkdir()  # the rename onto a folder fails after every frame was written
    with pytest.raises(OSError):
        fastmask.write_pngs(paths, stack, threads=2)
    left = sorted(os.listdir(tmp_path))
    assert not [n for n in left if n.endswith(".tmp")], left
    assert not paths[3].exists() and not paths[5].exists()  # renames stop at the failure


def test_read_pngs_in_a_forked_child(tmp_path: Path) -> None:
    stack = _stack(t=8)
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack, threads=2)
    assert np.array_equal(fastmask.read_pngs(paths, threads=2), stack)  # parent used the batch API
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    pid = os.fork()
    if pid == 0:  # child: must not deadlock on a thread pool inherited from the parent
        ok = False
        try:
            ok = bool(np.array_equal(fastmask.read_pngs(paths, threads=2), stack))
            fastmask.write_pngs(
                [tmp_path / f"child{i}.png" for i in range(2)], stack[:2], threads=2
            )
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung in read_pngs")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0
    assert np.array_equal(
        fastmask.read_pngs([tmp_path / "child0.png", tmp_path / "child1.png"]), stack[:2]
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("threads", [1, 2])
def test_read_pngs_into_out_equals_allocating_call(
    tmp_path: Path, dtype: type, threads: int
) -> None:
    stack = _stack(dtype=dtype)
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack)
    buf = np.full(stack.shape, 99, dtype)  # stale content must be fully overwritten
    got = fastmask.read_pngs(paths, threads=threads, out=buf)
    assert got is buf
    assert np.array_equal(buf, fastmask.read_pngs(paths, threads=threads))
    assert np.array_equal(buf, stack)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda s: np.zeros((s[0] + 1, s[1], s[2]), np.uint8), r"got shape \(7, 31, 45\)"),
        (lambda s: np.zeros(s, np.uint16), "got dtype uint16"),
        (
            lambda s: np.zeros((s[0], s[1], s[2] * 2), np.uint8)[:, :, ::2],
            "got a non-contiguous array",
        ),
        (lambda s: np.zeros(s, np.uint8)[None][0], None),
        (lambda s: [[0]], "got <class 'list'>"),
    ],
)
def test_read_pngs_out_mismatch_is_a_clear_error(tmp_path: Path, make, fragment) -> None:  # type: ignore[no-untyped-def]
    stack = _stack()
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack)
    out = make(stack.shape)
    if fragment is None:  # a plain valid buffer (a view of a view) works
        assert np.array_equal(fastmask.read_pngs(paths, out=out), stack)
        return
    with pytest.raises(ValueError, match=fragment):
        fastmask.read_pngs(paths, out=out)


def test_read_pngs_out_must_be_writeable(tmp_path: Path) -> None:
    stack = _stack()
    paths = _paths(tmp_path, len(stack))
    fastmask.write_pngs(paths, stack)
    out = np.zeros(stack.shape, np.uint8)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="got a read-only array"):
        fastmask.read_pngs(paths, out=out)
    assert not out.any()
