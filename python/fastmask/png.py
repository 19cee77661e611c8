"""Palette PNG masks: decode, read, encode and write label maps, one at a time or in batches.

Decoding returns the *stored sample values* as numpy arrays, never colours:

- palette images (colour type 3, 1/2/4/8-bit) -> ``(H, W) uint8`` palette indices;
- grayscale 1/2/4/8-bit -> ``(H, W) uint8`` raw values (a 2-bit image gives 0..3, not Pillow's
  0/85/170/255; a 1-bit image gives 0/1, not Pillow's bool); 16-bit -> ``(H, W) uint16``;
- gray+alpha -> the gray channel only, ``(H, W)`` (the alpha channel is dropped);
- RGB / RGBA colour images (masks saved as colour pictures) -> each exact colour is mapped to its
  index in a palette (:data:`DAVIS_PALETTE` unless ``colormap=`` is given), alpha ignored; a
  colour that is not in the palette raises :class:`fastmask.PngError` naming the first unknown
  colours and how many pixels have them. ``raw=True`` returns the colour image unchanged,
  ``(H, W, 3|4)`` (``uint16`` for 16-bit files).

Transparency (tRNS) is reported by :func:`png_info` and otherwise ignored. Ancillary chunks
(text, ICC profiles, ...) are skipped without being decompressed; every chunk's CRC is checked.

Encoding writes ``uint8``/``bool`` labels as a palette PNG (your colours first, padded with the
DAVIS colours; all 256 entries, or only those the labels use), and ``uint16`` labels as 16-bit
grayscale.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastmask import _fastmask

__all__ = [
    "DAVIS_PALETTE",
    "PngInfo",
    "decode_png",
    "encode_png",
    "get_max_pixels",
    "png_info",
    "read_png",
    "read_pngs",
    "set_max_pixels",
    "write_png",
    "write_pngs",
]

PathLike = Union[str, "os.PathLike[str]"]
#: What ``read_png`` opens: a path, or a binary file object (``open(p, "rb")``, ``io.BytesIO``).
PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]
Compression = Literal["fast", "small"] | int
PaletteSize = Literal["full", "used"]
Labels = NDArray[Any]
LabelsAndPalette = tuple[NDArray[Any], NDArray[np.uint8] | None]

#: The 256-entry PASCAL VOC colour map that DAVIS (and YouTube-VOS, MOSE, LVOS) masks carry:
#: ``(256, 3) uint8``, read-only. Label 1 is (128, 0, 0), 2 is (0, 128, 0), 3 is (128, 128, 0)...
DAVIS_PALETTE: NDArray[np.uint8] = np.frombuffer(_fastmask._davis_palette(), np.uint8).reshape(
    256, 3
)

_NO_LIMIT = 2**64 - 1
_max_pixels: int | None = int(_fastmask.DEFAULT_MAX_PIXELS)


def set_max_pixels(n: int | None) -> None:
    """Set the largest ``width * height`` the decoders accept (``None``: no limit).

    The default, 89,478,485, is Pillow's ``Image.MAX_IMAGE_PIXELS``: a guard against
    decompression bombs (a tiny file that claims a gigantic image). The check happens before
    anything is allocated, and below the limit memory grows only with the data actually decoded
    (a truncated file costs what its data holds, not what its header claims); memory the system
    refuses raises ``MemoryError``. Every decoding function also takes ``max_pixels=`` for one
    call.

    Example:
        >>> fastmask.set_max_pixels(200_000_000)  # allow images of up to 200 megapixels
    """
    global _max_pixels
    _max_pixels = None if n is None else _check_limit(n)


def get_max_pixels() -> int | None:
    """The current pixel limit of the decoders (``None``: no limit).

    Example:
        >>> fastmask.get_max_pixels()
        89478485
    """
    return _max_pixels


def _check_limit(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"max_pixels must be a positive integer or None, got {n!r}")
    return int(n)


def _limit(max_pixels: int | None) -> int:
    n = _max_pixels if max_pixels is None else _check_limit(max_pixels)
    return _NO_LIMIT if n is None else min(n, _NO_LIMIT)


def _palette_bytes(palette: ArrayLike | None, name: str) -> bytes | None:
    """(N, 3) integers 0..255, or a flat list of 3N (Pillow's ``getpalette()``), as bytes."""
    if palette is None:
        return None
    arr = np.asarray(palette)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integers 0..255, got dtype {arr.dtype}")
    if arr.ndim == 1 and arr.size % 3 == 0:
        arr = arr.reshape(-1, 3)
    if arr.ndim != 2 or arr.shape[1] != 3 or not 1 <= arr.shape[0] <= 256:
        raise ValueError(
            f"{name} must have shape (N, 3) with 1 <= N <= 256 (or be a flat sequence of 3N "
            f"values), got shape {np.shape(palette)}"
        )
    if arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"{name} values must be 0..255, got {arr.min()}..{arr.max()}")
    return arr.astype(np.uint8).tobytes()


def _label_array(labels: ArrayLike, ndim: int, what: str) -> np.ndarray:
    """uint8 / uint16 (native byte order) view or copy of an integer or bool label array."""
    arr = np.asarray(labels)
    if arr.ndim != ndim:
        shape = "(H, W)" if ndim == 2 else "(T, H, W)"
        raise ValueError(f"{what} must be a {ndim}-D {shape} array, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.view(np.uint8)
    if arr.dtype.kind == "u" and arr.dtype.itemsize in (1, 2):
        return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind in "iu":
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{what} of dtype {arr.dtype} hold values {lo}..{hi}: a palette PNG holds labels "
                f"0..255 (pass .astype(np.uint16) to write 16-bit grayscale, up to 65535)"
            )
        return arr.astype(np.uint8)
    raise ValueError(f"{what} must be an integer or bool array, got dtype {arr.dtype}")


def _buffer(data: Any) -> Any:
    if isinstance(data, bytes):
        return data
    try:
        return memoryview(data).cast("B")
    except TypeError as e:
        raise TypeError(
            "PNG data must be bytes, bytearray, memoryview or another C-contiguous buffer, "
            f"got {type(data).__name__} ({e})"
        ) from None


def _threads(threads: int | None) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    return int(threads)


def _paths(paths: Any) -> list[str]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("paths must be a sequence of paths, not a single path")
    return [os.fspath(p) for p in paths]


@overload
def decode_png(
    data: Any,
    *,
    palette: Literal[False] = ...,
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> Labels: ...
@overload
def decode_png(
    data: Any,
    *,
    palette: Literal[True],
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> LabelsAndPalette: ...
@overload
def decode_png(
    data: Any,
    *,
    palette: bool,
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> Labels | LabelsAndPalette: ...


def decode_png(
    data: Any,
    *,
    palette: bool = False,
    raw: bool = False,
    colormap: ArrayLike | None = None,
    max_pixels: int | None = None,
) -> Labels | LabelsAndPalette:
    """Decode PNG bytes to a label map.

    Args:
        data: the PNG file's bytes: ``bytes``, ``bytearray``, ``memoryview`` or any C-contiguous
            buffer.
        palette: also return the palette stored in the file.
        raw: return every stored channel unchanged (colour images as ``(H, W, 3|4)``,
            gray+alpha as ``(H, W, 2)``) instead of labels.
        colormap: ``(N, 3)`` palette used to map RGB(A) masks to labels (default
            :data:`DAVIS_PALETTE`); a colour listed twice maps to its first index.
        max_pixels: pixel limit for this call (default :func:`get_max_pixels`).

    Returns:
        ``(H, W) uint8`` labels (``uint16`` for 16-bit grayscale); with ``palette=True`` a tuple
        ``(labels, palette)`` where ``palette`` is the ``(N, 3) uint8`` PLTE entries actually
        stored (N = 1..256), or ``None`` when the file has no PLTE.

    Raises:
        fastmask.PngError: malformed or truncated data, CRC mismatch, unsupported format,
            unknown colours in an RGB mask, or more pixels than the limit.

    Example:
        >>> labels = fastmask.decode_png(open("00000.png", "rb").read())  # doctest: +SKIP
        >>> labels.shape, labels.dtype  # doctest: +SKIP
        ((480, 854), dtype('uint8'))
    """
    return _fastmask._decode_png(
        _buffer(data),
        bool(palette),
        bool(raw),
        _palette_bytes(colormap, "colormap"),
        _limit(max_pixels),
    )


@overload
def read_png(
    path: PathOrFile,
    *,
    palette: Literal[False] = ...,
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> Labels: ...
@overload
def read_png(
    path: PathOrFile,
    *,
    palette: Literal[True],
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> LabelsAndPalette: ...
@overload
def read_png(
    path: PathOrFile,
    *,
    palette: bool,
    raw: bool = ...,
    colormap: ArrayLike | None = ...,
    max_pixels: int | None = ...,
) -> Labels | LabelsAndPalette: ...


def read_png(
    path: PathOrFile,
    *,
    palette: bool = False,
    raw: bool = False,
    colormap: ArrayLike | None = None,
    max_pixels: int | None = None,
) -> Labels | LabelsAndPalette:
    """Read a PNG file to a label map: the stored sample values, never colours.

    Args:
        path: the file: a ``str`` or ``os.PathLike`` path, or a binary file object (anything
            with ``read()`` returning bytes: ``open(path, "rb")``, ``io.BytesIO``, a zip member),
            read from its current position to the end, as Pillow's ``Image.open`` does.
        palette: also return the palette stored in the file.
        raw: return every stored channel unchanged (colour images as ``(H, W, 3|4)``,
            gray+alpha as ``(H, W, 2)``) instead of labels.
        colormap: ``(N, 3)`` palette used to map RGB(A) masks to labels (default
            :data:`DAVIS_PALETTE`); a colour listed twice maps to its first index.
        max_pixels: pixel limit for this call (default :func:`get_max_pixels`, Pillow's 89.5
            megapixels); checked before anything is allocated.

    Returns:
        ``(H, W) uint8`` labels: palette indices (1/2/4/8-bit palette), raw gray values
        (1/2/4/8-bit grayscale: a 2-bit file gives 0..3), the gray channel of gray+alpha, or
        RGB(A) colours mapped to their index in ``colormap``; ``(H, W) uint16`` for 16-bit
        grayscale. With ``palette=True`` a tuple ``(labels, palette)`` where ``palette`` is the
        ``(N, 3) uint8`` PLTE entries stored (N = 1..256), or ``None`` without PLTE.

    Raises:
        FileNotFoundError: no such file (``.filename`` is the path).
        fastmask.PngError: a ``ValueError`` naming the file: malformed or truncated data, CRC
            mismatch, unsupported format, colours of an RGB mask not in ``colormap`` (listed
            with their pixel counts), or more pixels than the limit.

    Example:
        >>> path = "Annotations/480p/bear/00000.png"
        >>> labels, pal = fastmask.read_png(path, palette=True)  # doctest: +SKIP
        >>> labels.max(), pal.shape  # doctest: +SKIP
        (1, (256, 3))
        >>> import io
        >>> fastmask.read_png(io.BytesIO(fastmask.encode_png(np.eye(2, dtype=np.uint8))))
        array([[1, 0],
               [0, 1]], dtype=uint8)
    """
    if hasattr(path, "read"):
        return _read_file_object(path, bool(palette), bool(raw), colormap, max_pixels)
    return _fastmask._read_png(
        os.fspath(path),
        bool(palette),
        bool(raw),
        _palette_bytes(colormap, "colormap"),
        _limit(max_pixels),
    )


def _read_file_object(
    f: Any, palette: bool, raw: bool, colormap: ArrayLike | None, max_pixels: int | None
) -> Labels | LabelsAndPalette:
    data = f.read()
    name = getattr(f, "name", None)
    where = f"{name}: " if isinstance(name, str) else ""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{where}read_png needs a binary file object (open(path, 'rb')); its read() "
            f"returned {type(data).__name__}"
        )
    try:
        return decode_png(data, palette=palette, raw=raw, colormap=colormap, max_pixels=max_pixels)
    except _fastmask.PngError as e:
        if where:
            raise _fastmask.PngError(f"{where}{e}") from None
        raise


def read_pngs(
    paths: Sequence[PathLike],
    *,
    threads: int | None = None,
    colormap: ArrayLike | None = None,
    max_pixels: int | None = None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """Read many PNG masks of one size into a ``(T, H, W)`` array, in parallel.

    Args:
        paths: the ``T`` files, in frame order (``str`` or ``os.PathLike``).
        threads: decoding threads (default: one per 4 frames, up to the number of cores).
        colormap: ``(N, 3)`` palette used to map RGB(A) masks to labels (default
            :data:`DAVIS_PALETTE`); a colour listed twice maps to its first index.
        max_pixels: pixel limit per frame (default :func:`get_max_pixels`).
        out: an array to decode into (below).

    Each frame decodes as :func:`read_png` describes (palette indices, gray values, RGB
    colours mapped through ``colormap``).
    Files are read and decoded on ``threads`` threads straight into the result, without holding
    the GIL. The default uses one thread per 4 frames, up to the number of cores (on 854x480
    frames, 2 threads are 1.3x as fast as 1 for 8 frames and 1.8x for 64). Every frame must
    have the first frame's size and sample type (``uint8``, or ``uint16`` for 16-bit
    grayscale); a mismatch names both files and both sizes. Any other error names the failing
    file. Safe to use in forked processes (PyTorch DataLoader workers): no thread pool outlives
    a call.

    ``out``: an existing C-contiguous, writeable ``(T, H, W)`` array of the frames' dtype to
    decode into (returned). A loader that reuses one buffer skips allocating ``T * H * W``
    bytes per call; the gain is small (64 frames of 854x480 on one thread: 3.55 ms into
    ``out`` vs 3.61 ms allocating, benches/bench_png.py) but the memory stays put.

    Example:
        >>> frames = sorted(glob.glob("Annotations/480p/bear/*.png"))  # doctest: +SKIP
        >>> masks = fastmask.read_pngs(frames)  # doctest: +SKIP
        >>> masks.shape, masks.dtype  # doctest: +SKIP
        ((82, 480, 854), dtype('uint8'))
    """
    plist = _paths(paths)
    return _fastmask._read_pngs(
        plist, _threads(threads), _palette_bytes(colormap, "colormap"), _limit(max_pixels), out
    )


def _compression(compression: Any) -> Any:
    if isinstance(compression, bool) or not isinstance(compression, (str, int, np.integer)):
        raise ValueError(
            f'compression must be "fast", "small" or a zlib level 0..9, got {compression!r}'
        )
    return compression if isinstance(compression, str) else int(compression)


def _palette_size(palette_size: Any, compression: Any) -> str:
    if palette_size is None:
        return "used" if isinstance(compression, str) and compression == "small" else "full"
    if palette_size not in ("full", "used"):
        raise ValueError(f'palette_size must be "full", "used" or None, got {palette_size!r}')
    return str(palette_size)


def encode_png(
    labels: ArrayLike,
    palette: ArrayLike | None = None,
    *,
    compression: Compression = "fast",
    palette_size: PaletteSize | None = None,
) -> bytes:
    """Encode an ``(H, W)`` label map as PNG bytes.

    Args:
        labels: ``uint8`` or ``bool`` -> 8-bit palette PNG; ``uint16`` -> 16-bit grayscale PNG.
            Other integer dtypes are accepted when every value is in 0..255. Strided views and
            Fortran-ordered arrays are fine.
        palette: ``(N, 3)`` colours for labels 0..N-1 (N <= 256), or a flat sequence of 3N
            values such as Pillow's ``getpalette()``: these colours first, then the
            :data:`DAVIS_PALETTE` colours (default: all DAVIS). Not allowed with ``uint16``
            labels.
        compression: ``"fast"`` (default: several times faster than Pillow), ``"small"``
            (Zopfli's optimal parsing on labels packed to the lowest bit depth that holds
            them: smaller than Pillow's ``optimize=True`` and imagecodecs level 9 on the
            corpus masks, 0.3-0.6 s of CPU per 854x480 mask, for archiving), or a zlib level
            0..9 (like Pillow's ``compress_level``; levels 1..9 keep our "fast" stream when it
            is smaller, so they are never larger than ``"fast"``).
        palette_size: ``"full"`` writes all 256 palette entries; ``"used"`` only entries
            0..max(label), the colours the labels can show (the PLTE chunk of 256 entries is
            780 bytes, ~30% of a typical 854x480 mask file). Default: ``"used"`` with
            ``"small"``, ``"full"`` otherwise.

    Returns:
        The PNG file as ``bytes``. Pillow reads it back with identical indices and colours.

    Example:
        >>> png = fastmask.encode_png(np.eye(4, dtype=np.uint8))
        >>> np.array_equal(fastmask.decode_png(png), np.eye(4))
        True
        >>> small = fastmask.encode_png(np.eye(4, dtype=np.uint8), compression="small")
        >>> fastmask.png_info(small).palette_entries, fastmask.png_info(small).bit_depth
        (2, 1)
    """
    arr = _label_array(labels, 2, "labels")
    pal = _palette_bytes(palette, "palette")
    if pal is not None and arr.dtype == np.uint16:
        raise ValueError("uint16 labels are written as 16-bit grayscale, which has no palette")
    return _fastmask._encode_png(
        arr, pal, _compression(compression), _palette_size(palette_size, compression)
    )


def write_png(
    path: PathLike,
    labels: ArrayLike,
    palette: ArrayLike | None = None,
    *,
    compression: Compression = "fast",
    palette_size: PaletteSize | None = None,
) -> None:
    """Encode an ``(H, W)`` label map as a PNG file at ``path``.

    Args:
        path: the file to write (``str`` or ``os.PathLike``); its folder must exist.
        labels: ``uint8`` or ``bool`` -> 8-bit palette PNG; ``uint16`` -> 16-bit grayscale PNG.
            Other integer dtypes are accepted when every value is in 0..255. Strided views and
            Fortran-ordered arrays are fine.
        palette: ``(N, 3)`` colours for labels 0..N-1 (N <= 256), or a flat sequence of 3N
            values such as Pillow's ``getpalette()``: these colours first, then the
            :data:`DAVIS_PALETTE` colours (default: all DAVIS). Not allowed with ``uint16``
            labels.
        compression: ``"fast"`` (default), ``"small"`` (Zopfli on labels packed to the lowest
            bit depth: smaller than Pillow's ``optimize=True``, 0.3-0.6 s of CPU per 854x480
            mask) or a zlib level 0..9 (never larger than ``"fast"``).
        palette_size: ``"full"`` writes all 256 palette entries, ``"used"`` only entries
            0..max(label). Default: ``"used"`` with ``"small"``, ``"full"`` otherwise.

    The write is atomic: the file is written under a temporary name in the same folder
    (``.<name>.fastmask-<pid>-<n>.tmp``) and renamed over ``path`` only when complete. On any
    error no partial file remains and an existing ``path`` keeps its contents; temporaries a
    killed process left behind are removed by the next write into that folder.

    Raises:
        FileNotFoundError: the folder does not exist (the message names it).
        ValueError: labels of the wrong shape or dtype, values above 255 in a non-uint8 array,
            a bad palette or compression.
        OSError: any other failure to write (permissions, disk full), naming the file.

    Example:
        >>> fastmask.write_png("00000.png", np.eye(4, dtype=np.uint8))  # DAVIS colours
        >>> int(fastmask.read_png("00000.png").sum())
        4
    """
    arr = _label_array(labels, 2, "labels")
    pal = _palette_bytes(palette, "palette")
    if pal is not None and arr.dtype == np.uint16:
        raise ValueError("uint16 labels are written as 16-bit grayscale, which has no palette")
    try:
        _fastmask._write_png(
            os.fspath(path),
            arr,
            pal,
            _compression(compression),
            _palette_size(palette_size, compression),
        )
    except FileNotFoundError as e:
        raise (_missing_folder(path) or e) from None


def _missing_folder(path: PathLike) -> FileNotFoundError | None:
    """A ``FileNotFoundError`` naming the folder of ``path`` when that folder is missing."""
    folder = os.path.dirname(os.fspath(path))
    if not folder or os.path.isdir(folder):
        return None
    return FileNotFoundError(
        errno.ENOENT,
        f"folder {folder} does not exist (PNG writers create files, not folders: "
        f"os.makedirs({folder!r}, exist_ok=True) first)",
        os.fspath(path),
    )


def write_pngs(
    paths: Sequence[PathLike],
    stack: ArrayLike,
    palette: ArrayLike | None = None,
    *,
    threads: int | None = None,
    compression: Compression = "fast",
    palette_size: PaletteSize | None = None,
) -> None:
    """Write a ``(T, H, W)`` stack of label maps to ``T`` files, encoding in parallel.

    Args:
        paths: ``T`` destination files (``str`` or ``os.PathLike``); their folders must exist.
        stack: ``(T, H, W)`` labels: ``uint8`` or ``bool`` -> 8-bit palette PNGs, ``uint16`` ->
            16-bit grayscale; other integer dtypes when every value is in 0..255.
        palette: ``(N, 3)`` colours for labels 0..N-1 (N <= 256) or a flat sequence of 3N
            values: these colours, then the DAVIS ones.
        threads: encoding threads (default: one per 4 frames, up to the number of cores).
        compression: ``"fast"`` (default), ``"small"`` (Zopfli) or a zlib level 0..9, as for
            ``write_png``.
        palette_size: ``"full"`` (256 entries) or ``"used"`` (0..max(label)); default
            ``"used"`` with ``"small"``, ``"full"`` otherwise.

    All or nothing: all frames are encoded and written to temporary files first; only when
    every one succeeded are they renamed into place, each destination's previous version kept
    (as a hard link) until the last rename succeeded, so that a failed rename puts back the
    frames already replaced. On any exception every destination is as it was and no temporary
    file is left. After SIGKILL every file is whole (old or new, never partial); a kill during
    the renames can leave some frames new and some old, and the hidden temporaries
    (``.NAME.fastmask-PID-N.tmp`` / ``.bak``) the killed process left are removed by the next
    write into that folder.

    Example:
        >>> paths = [f"out/{t:05d}.png" for t in range(len(masks))]  # doctest: +SKIP
        >>> fastmask.write_pngs(paths, masks)  # doctest: +SKIP
    """
    plist = _paths(paths)
    arr = _label_array(stack, 3, "stack")
    pal = _palette_bytes(palette, "palette")
    if pal is not None and arr.dtype == np.uint16:
        raise ValueError("uint16 labels are written as 16-bit grayscale, which has no palette")
    _fastmask._write_pngs(
        plist,
        arr,
        pal,
        _compression(compression),
        _threads(threads),
        _palette_size(palette_size, compression),
    )


@dataclass(frozen=True)
class PngInfo:
    """What a PNG file holds, from its chunks (nothing is decompressed)."""

    width: int
    height: int
    bit_depth: int
    #: IHDR colour type: 0 grayscale, 2 RGB, 3 palette, 4 grayscale+alpha, 6 RGBA.
    color_type: int
    #: "grayscale", "RGB", "palette", "grayscale+alpha" or "RGBA".
    color_type_name: str
    interlaced: bool
    #: Number of PLTE entries (0 without PLTE).
    palette_entries: int
    #: Whether a tRNS chunk is present.
    transparency: bool
    #: Compressed image data size (all IDAT chunks).
    idat_bytes: int
    #: Every chunk in file order as (type, data length).
    chunks: list[tuple[str, int]]


def png_info(source: Any) -> PngInfo:
    """Header and chunk summary of a PNG file (a path) or of PNG bytes, without decoding pixels.

    Every chunk's CRC is checked; the pixel limit does not apply.

    Example:
        >>> fastmask.png_info("00000.png").color_type_name  # doctest: +SKIP
        'palette'
    """
    if isinstance(source, (str, os.PathLike)):
        d = _fastmask._png_info_file(os.fspath(source))
    else:
        d = _fastmask._png_info(_buffer(source))
    return PngInfo(**d)
