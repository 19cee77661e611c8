"""What a newcomer meets first: ``read_png`` on file objects (as Pillow), ``write_png`` into a
folder that does not exist, ``help()`` of each public function, progress in a log file."""

from __future__ import annotations

import inspect
import io
import re
from pathlib import Path

import fastmask
import numpy as np
import pytest
from evalref import gen
from fastmask.evaluation import _progress
from PIL import Image


def _pillow_files(folder: Path) -> list[Path]:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 6, (23, 31), dtype=np.uint8)
    files = []
    for mode in ("P", "L"):
        im = Image.fromarray(labels, "L")
        if mode == "P":
            im = im.convert("P")
            im.putpalette(fastmask.DAVIS_PALETTE.tobytes())
        files.append(folder / f"{mode}.png")
        im.save(files[-1])
    im16 = Image.fromarray(labels.astype(np.uint16) * 4099)  # mode I;16
    files.append(folder / "I16.png")
    im16.save(files[-1])
    return files


def test_read_png_takes_binary_file_objects_like_pillow(tmp_path: Path) -> None:
    for path in _pillow_files(tmp_path):
        want = fastmask.read_png(path)
        with open(path, "rb") as f:
            got = fastmask.read_png(f)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
        with open(path, "rb") as f:
            np.testing.assert_array_equal(np.array(Image.open(f)), want)  # the same as Pillow
        # From the current position, as Image.open: a PNG inside a larger stream.
        buf = io.BytesIO(b"header" + path.read_bytes())
        buf.seek(6)
        np.testing.assert_array_equal(fastmask.read_png(buf), want)
    with open(tmp_path / "P.png", "rb") as f:
        _, palette = fastmask.read_png(f, palette=True)
    assert palette is not None and np.array_equal(palette, fastmask.DAVIS_PALETTE)


def test_read_png_file_object_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with open(bad, "rb") as f, pytest.raises(fastmask.PngError, match=re.escape(str(bad))):
        fastmask.read_png(f)
    with open(bad) as f, pytest.raises(TypeError, match=r"binary file object.*returned str"):
        fastmask.read_png(f)  # type: ignore[arg-type]


def test_write_png_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "out" / "bear" / "00000.png"
    with pytest.raises(FileNotFoundError) as e:
        fastmask.write_png(path, np.zeros((4, 5), np.uint8))
    msg = str(e.value)
    assert f"folder {path.parent} does not exist" in msg and "os.makedirs(" in msg
    assert e.value.filename == str(path)
    assert not (tmp_path / "out").exists()
    path.parent.mkdir(parents=True)  # what the message says to do
    fastmask.write_png(path, np.zeros((4, 5), np.uint8))
    assert path.is_file()


PUBLIC = [
    getattr(fastmask, n)
    for n in fastmask.__all__
    if inspect.isfunction(getattr(fastmask, n)) and not n.startswith("_")
]


@pytest.mark.parametrize("fn", PUBLIC, ids=[f.__name__ for f in PUBLIC])
def test_help_shows_the_full_doc(fn) -> None:
    doc = inspect.getdoc(fn) or ""
    # No "see decode_png" / "as for encode_png": help() must show everything needed.
    assert not re.search(r"\(see :func:|as for :func:|: :func:`\w+` of", doc), doc
    assert ">>>" in doc, f"{fn.__name__}: no example"
    sig = inspect.signature(fn).parameters.values()
    params = [p.name for p in sig if p.kind is not p.VAR_KEYWORD]
    if len(params) > 2:
        for p in params:
            assert p in doc, f"{fn.__name__}: parameter {p!r} not documented"


def test_progress_in_a_log_file_is_plain_lines(tmp_path: Path, capsys) -> None:
    log = io.StringIO()
    with _progress.Lines(total=10, unit="seq", desc="eval", file=log, every=0.0) as bar:
        for _ in range(10):
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0].startswith("eval: 1/10 seq (10%)") and lines[-1].startswith("eval: 10/10")
    assert len(lines) == 10
    # fastmask.evaluate(progress=True) with stderr not a terminal (captured, as in a log file)
    rng = np.random.default_rng(1)
    gt = {"a": gen.make_sequence(rng, 12, 14, 4, ["always"])}
    gen.write_davis(tmp_path / "DAVIS", gt)
    gen.write_results(tmp_path / "res", gt)
    capsys.readouterr()
    fastmask.evaluate(tmp_path / "DAVIS", tmp_path / "res", progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "fastmask eval davis2017: 1/1 video (100%)" in err
