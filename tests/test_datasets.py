"""Dataset loaders on generated datasets in each shipped layout, read back against Pillow."""

from __future__ import annotations

import json
from pathlib import Path

import fastmask
import numpy as np
import pytest
from dsref import gen
from fastmask.datasets import DAVIS, LVOS, MOSE, SAV, Folder, MetadataError, YouTubeVOS
from PIL import Image


def pil(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


@pytest.fixture(scope="module")
def ytvos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("ytvos")
    return root, gen.youtube_vos(root, "train", videos=4)


def test_youtube_vos_layout(ytvos: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, stacks = ytvos
    ds = YouTubeVOS(root, "train")
    meta = json.loads((root / "train" / "meta.json").read_text())
    assert ds.names == sorted(stacks) and len(ds) == 4
    late_seen = False
    for video in ds:
        stack = stacks[video.name]
        assert video.annotated == [f"{5 * i:05d}" for i in range(len(stack))]
        assert len(video.frames) == 5 * len(stack) - 4  # every JPEG, annotations every 5th
        got = video.read_masks(threads=2)
        assert got.dtype == np.uint8 and np.array_equal(got, stack)
        assert np.array_equal(got, np.stack([pil(video.mask_path(f)) for f in video.annotated]))
        for (f, m), want in zip(video.iter_masks(), stack):
            assert np.array_equal(m, want), f
        assert video.size == stack.shape[1:]
        for oid, o in video.objects.items():
            entry = meta["videos"][video.name]["objects"][str(oid)]
            assert o.category == entry["category"] and o.frames == entry["frames"]
            first = next(n for n, m in zip(video.annotated, stack) if (m == oid).any())
            assert o.first_frame == first
            late_seen |= first != "00000"
    assert late_seen, "the generator should give at least one late object"
    assert set(ds.categories) <= {"person", "dog", "zebra", "kite"}


def test_youtube_vos_split_folder_and_errors(ytvos: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, stacks = ytvos
    assert YouTubeVOS(root / "train", "train").names == sorted(stacks)
    with pytest.raises(FileNotFoundError, match=r"split 'valid'.*splits found: train"):
        YouTubeVOS(root, "valid")
    with pytest.raises(FileNotFoundError, match="YouTube-VOS root"):
        YouTubeVOS(root / "nope", "train")
    with pytest.raises(KeyError, match="no video 'zzz'"):
        YouTubeVOS(root, "train")["zzz"]
    v = YouTubeVOS(root, "train")[sorted(stacks)[0]]
    with pytest.raises(FileNotFoundError, match="frame '00001'"):
        v.read_masks(["00000", "00001"])


def test_bad_metadata(tmp_path: Path) -> None:
    (tmp_path / "train" / "JPEGImages").mkdir(parents=True)
    (tmp_path / "train" / "meta.json").write_text("{not json")
    with pytest.raises(MetadataError, match="not valid JSON"):
        YouTubeVOS(tmp_path, "train")
    (tmp_path / "train" / "meta.json").write_text(json.dumps({"video": {}}))
    with pytest.raises(MetadataError, match="'videos' mapping"):
        YouTubeVOS(tmp_path, "train")
    (tmp_path / "train" / "meta.json").write_text(
        json.dumps({"videos": {"a": {"objects": {"x": {"frames": []}}}}})
    )
    with pytest.raises(MetadataError, match="object id 'x'"):
        _ = YouTubeVOS(tmp_path, "train")["a"].objects
    assert issubclass(MetadataError, ValueError)


@pytest.mark.parametrize("version", [1, 2])
def test_mose(tmp_path: Path, version: int) -> None:
    stacks = gen.mose(tmp_path, "train", version=version)
    ds = MOSE(tmp_path, "train", version=version)
    meta = json.loads((tmp_path / "train" / "meta.json").read_text())
    assert ds.names == sorted(stacks)
    for v in ds:
        assert np.array_equal(v.read_masks(), stacks[v.name])
        assert v.frames == v.annotated == [f"{t:05d}" for t in range(len(stacks[v.name]))]
        assert sorted(v.objects) == sorted(int(k) for k in meta["videos"][v.name]["objects"])
        assert all(o.first_frame == "00000" for o in v.objects.values())
        if version == 2:
            assert v.meta["length"] == len(stacks[v.name])
            assert (v.meta["height"], v.meta["width"]) == v.size
    # without metadata: objects of the first frame
    (tmp_path / "train" / "meta.json").unlink()
    ds = MOSE(tmp_path, "train")
    v = ds[ds.names[0]]
    first = stacks[v.name][0]
    assert sorted(v.objects) == list(range(1, int(first.max()) + 1))


def test_lvos(tmp_path: Path) -> None:
    stacks = gen.lvos(tmp_path, "valid")
    for root in (tmp_path, tmp_path / "valid"):
        ds = LVOS(root, "valid")
        assert ds.unseen == ["lvos01"]
        meta = json.loads((tmp_path / "valid" / "valid_meta.json").read_text())
        for v in ds:
            assert all(len(f) == 8 for f in v.annotated)
            for oid, o in v.objects.items():
                fr = meta["videos"][v.name]["objects"][str(oid)]["frame_range"]
                assert o.first_frame == f"{int(fr['start']):08d}"
                assert o.frames is not None and len(o.frames) == fr["frame_nums"]
                assert o.frames[-1] == f"{int(fr['end']):08d}"
                masks = v.object_masks(oid, o.frames)
                want = stacks[v.name][[int(f) for f in o.frames]] == oid
                assert np.array_equal(masks, want)
    with pytest.raises(FileNotFoundError, match=r"test_meta.json.*holds: valid"):
        LVOS(tmp_path, "test")
    assert LVOS(tmp_path, "valid", unseen=["a"]).unseen == ["a"]


def test_sav(tmp_path: Path) -> None:
    objs = gen.sav(tmp_path)
    ds = SAV(tmp_path, "sav_val")
    assert ds.names == sorted(objs)
    for v in ds:
        assert v.annotated == [f"{4 * t:05d}" for t in range(8)]
        assert len(v.frames) == 29
        composite = np.zeros(objs[v.name][0].shape, np.uint8)
        for k, m in objs[v.name].items():
            assert np.array_equal(v.object_masks(k), m)
            composite[m] = k
        assert np.array_equal(v.read_masks(), composite)
        assert v.objects[0].first_frame == "00000"


@pytest.mark.parametrize("sparse", [{"count": 35}, {"every": 6, "count": None}])
def test_davis_sparse_portrait(tmp_path: Path, sparse: dict) -> None:
    truth = gen.davis_sparse(tmp_path, **sparse)
    ds = DAVIS(tmp_path, "val")
    for v in ds:
        names, lab = truth[v.name]
        assert v.annotated == names and len(v.frames) == 90
        assert v.size == lab.shape[1:]
        assert np.array_equal(v.read_masks(), lab)
        assert sorted(v.objects) == list(range(1, int(lab[0].max()) + 1))  # DAVIS rule
        full = DAVIS(tmp_path, "val", objects="all")[v.name].objects
        assert full[2].first_frame == next(n for n, m in zip(names, lab) if (m == 2).any())
    assert DAVIS(tmp_path, None).names == sorted(truth)
    with pytest.raises(FileNotFoundError, match=r"ImageSets/2017/train.txt.*lists found: 2017/val"):
        DAVIS(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="resolutions found: 480p"):
        DAVIS(tmp_path, "val", resolution="Full-Resolution")


def test_folder(tmp_path: Path) -> None:
    truth = gen.davis_sparse(tmp_path / "set", videos=1, frames=20, count=8)
    ds = Folder(tmp_path / "set" / "Annotations" / "480p")
    (name,) = ds.names
    names, lab = truth[name]
    assert np.array_equal(ds[name].read_masks(), lab)
    assert ds[name].objects[1].first_frame == names[0]
    with pytest.raises(FileNotFoundError, match="video folders of PNG masks"):
        Folder(tmp_path / "set")


def test_read_masks_matches_read_pngs(ytvos: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, _ = ytvos
    v = YouTubeVOS(root, "train")[YouTubeVOS(root, "train").names[0]]
    paths = [v.mask_path(f) for f in v.annotated]
    assert np.array_equal(v.read_masks(threads=1), fastmask.read_pngs(paths))
