"""Dataset loaders for the video-object-segmentation datasets of the field, read as they ship.

``DAVIS``, ``YouTubeVOS``, ``MOSE``, ``LVOS``, ``SAV`` (val/test PNGs, train masklet JSON),
``YouTubeVIS`` (one VIS/OVIS JSON) and the generic ``Folder`` open a root
and a split; ``ds.names`` lists the videos, ``ds[name]`` is a :class:`Video` with ``frames``
(images), ``annotated`` (frames with ground truth), ``objects`` (``{id: ObjectInfo}`` with the
frame where each object first appears and its category when the metadata has one), and masks
as ``(T, H, W) uint8`` label maps (``read_masks``, decoded in parallel) or one frame at a time
(``iter_masks``). A wrong root or split raises ``FileNotFoundError`` naming what was expected
and what was found; malformed metadata raises :class:`MetadataError` (a ``ValueError``).

Example:
    >>> ds = fastmask.datasets.YouTubeVOS("youtube-vos", "train")  # doctest: +SKIP
    >>> video = ds[ds.names[0]]  # doctest: +SKIP
    >>> masks = video.read_masks(threads=8)  # (T, H, W) uint8  # doctest: +SKIP
"""

from fastmask.datasets._base import Dataset, MetadataError, ObjectInfo, Video, read_list
from fastmask.datasets._json import Masklets, MaskletVideo, SAVJsonVideo, YouTubeVIS
from fastmask.datasets._layouts import DAVIS, LVOS, MOSE, SAV, Folder, SAVVideo, YouTubeVOS

__all__ = [
    "DAVIS",
    "LVOS",
    "MOSE",
    "SAV",
    "Dataset",
    "Folder",
    "MaskletVideo",
    "Masklets",
    "MetadataError",
    "ObjectInfo",
    "SAVJsonVideo",
    "SAVVideo",
    "Video",
    "YouTubeVIS",
    "YouTubeVOS",
    "read_list",
]
