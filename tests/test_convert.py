"""SA-V masklet JSON / YouTube-VIS JSON loaders and ``fastmask.convert``, against JSON made
with pycocotools (the tool these files are written with) and masks made with numpy."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fastmask
import numpy as np
import pytest
from conftest import corpus_path
from fastmask.cli import main
from fastmask.conversion._formats import sav_fields
from fastmask.datasets import SAV, MetadataError, YouTubeVIS
from fastmask.datasets._json import Masklets, _empty_rle, decode_frames, parse_sav
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as pmask


def uncompressed(m: np.ndarray) -> dict:
    """COCO uncompressed RLE of a binary mask (runs over the column-major pixels)."""
    flat = m.flatten(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    runs = np.diff(np.concatenate([[0], change]))
    return {"size": list(m.shape), "counts": [int(r) for r in runs]}


def compressed(m: np.ndarray) -> dict:
    r = pmask.encode(np.asfortranarray(m.astype(np.uint8)))
    return {"size": r["size"], "counts": r["counts"].decode()}


def make_objects(rng: np.random.Generator, t: int, n: int, h: int, w: int) -> np.ndarray:
    """``(n, t, h, w)`` bool: overlapping boxes; object 1 appears late, object 2 disappears and
    comes back."""
    m = np.zeros((n, t, h, w), bool)
    for k in range(n):
        for i in range(t):
            y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
            m[k, i, y : y + rng.integers(2, h // 2 + 2), x : x + rng.integers(2, w // 2 + 2)] = True
    if n > 1:
        m[1, : t // 2] = False
    if n > 2:
        m[2, 1] = False
    return m


def write_sav(path: Path, objs: np.ndarray, *, ids=None, uncompressed_obj: int | None = 0) -> None:
    n, t, h, w = objs.shape
    masklet = [
        [
            uncompressed(objs[k, i]) if k == uncompressed_obj else compressed(objs[k, i])
            for k in range(n)
        ]
        for i in range(t)
    ]
    data = {
        "video_id": path.name.split("_manual")[0],
        "video_height": float(h),
        "video_width": float(w),
        "video_frame_count": float(4 * t),
        "masklet": masklet,
        "masklet_id": list(range(n)) if ids is None else ids,
        "masklet_type": ["manual"] * n,
        "masklet_num": n,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def labels_of(objs: np.ndarray, labels: list[int]) -> np.ndarray:
    """Label maps with objects painted in id order (the later one wins)."""
    n, t, h, w = objs.shape
    out = np.zeros((t, h, w), np.uint8)
    for k in range(n):
        out[objs[k]] = labels[k]
    return out


@pytest.fixture
def sav_train(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    vids = {
        "sav_000001": make_objects(rng, 7, 3, 24, 32),
        "sav_000002": make_objects(rng, 5, 2, 16, 20),
    }
    for name, objs in vids.items():
        write_sav(tmp_path / "sav_train" / "sav_000" / f"{name}_manual.json", objs)
    auto = make_objects(rng, 7, 2, 24, 32)
    write_sav(
        tmp_path / "sav_train" / "sav_000" / "sav_000001_auto.json", auto, uncompressed_obj=None
    )
    vids["auto"] = auto
    return tmp_path, vids


def test_sav_json_loader(sav_train) -> None:
    root, vids = sav_train
    ds = SAV(root, "sav_train")
    assert ds.names == ["sav_000001", "sav_000002"]
    v = ds["sav_000001"]
    objs = vids["sav_000001"]
    assert v.annotated == [f"{4 * i:05d}" for i in range(7)]
    assert sorted(v.objects) == [0, 1, 2]
    for k in range(3):
        np.testing.assert_array_equal(v.object_masks(k), objs[k])
        seen = [f"{4 * i:05d}" for i in range(7) if objs[k, i].any()]
        assert v.objects[k].first_frame == seen[0] and v.objects[k].frames == seen
        assert v.objects[k].extra["masklet_type"] == "manual"
    # ids from 0: labels are id + 1, the larger id wins where masks overlap
    np.testing.assert_array_equal(v.read_masks(), labels_of(objs, [1, 2, 3]))
    np.testing.assert_array_equal(v.read_mask("00008"), labels_of(objs, [1, 2, 3])[2])
    assert v.meta["video_id"] == "sav_000001"

    both = SAV(root, "sav_train", masklets="all")["sav_000001"]
    assert sorted(both.objects) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(both.object_masks(4), vids["auto"][1])
    assert SAV(root, "sav_train", masklets="auto").names == ["sav_000001"]


def vis_json(path: Path, rng: np.random.Generator) -> dict:
    """A YouTube-VIS file: compressed, uncompressed and polygon segmentations, null frames."""
    h, w, t = 20, 30, 6
    objs = make_objects(rng, t, 3, h, w)
    segs = []
    for k in range(3):
        row = []
        for i in range(t):
            if not objs[k, i].any():
                row.append(None)
            elif k == 0:
                row.append(uncompressed(objs[k, i]))
            else:
                row.append(compressed(objs[k, i]))
        segs.append(row)
    poly = [[2.0, 2.0, 12.5, 3.0, 9.0, 14.0], [20.0, 5.0, 27.0, 5.0, 27.0, 15.0, 20.0, 12.0]]
    segs[2][3] = poly
    want = objs.copy()
    want[2, 3] = pmask.decode(pmask.merge(pmask.frPyObjects(poly, h, w))).astype(bool)
    data = {
        "videos": [
            {"id": 7, "width": w, "height": h, "length": t,
             "file_names": [f"vidA/{i * 5:05d}.jpg" for i in range(t)]},
        ],
        "annotations": [
            {"id": 10 + k, "video_id": 7, "category_id": k + 1, "iscrowd": 0,
             "segmentations": segs[k]}
            for k in range(3)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 3, "name": "ox"}],
    }  # fmt: skip
    path.write_text(json.dumps(data))
    return {"objs": want, "present": [[s is not None for s in row] for row in segs]}


def test_youtube_vis_loader(tmp_path: Path) -> None:
    ref = vis_json(tmp_path / "vis.json", np.random.default_rng(1))
    ds = YouTubeVIS(tmp_path / "vis.json")
    assert ds.names == ["vidA"]
    assert [c["name"] for c in ds.categories] == ["cat", "dog", "ox"]
    v = ds["vidA"]
    assert v.annotated == [f"{i * 5:05d}" for i in range(6)]
    assert [o.category for o in v.objects.values()] == ["cat", "dog", "ox"]
    assert v.objects[2].first_frame == "00015"  # object 2 appears late
    for k in range(3):
        np.testing.assert_array_equal(v.object_masks(k + 1), ref["objs"][k])
    np.testing.assert_array_equal(v.read_masks(), labels_of(ref["objs"], [1, 2, 3]))


def make_png_set(root: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Label maps: sparse ids (1, 3, 7), a late object, a frame with no object."""
    out = {}
    for name, (t, h, w) in {"a": (5, 24, 32), "b": (3, 17, 11)}.items():
        lab = rng.choice(np.array([0, 1, 3, 7], np.uint8), size=(t, h, w), p=[0.5, 0.2, 0.2, 0.1])
        lab[0][lab[0] == 7] = 0
        lab[-1] = 0
        (root / name).mkdir(parents=True)
        fastmask.write_pngs([root / name / f"{i:05d}.png" for i in range(t)], lab)
        out[name] = lab
    return out


def read_set(root: Path, names) -> dict[str, np.ndarray]:
    return {n: fastmask.read_pngs(sorted((root / n).glob("*.png")), threads=1) for n in names}


@pytest.mark.parametrize("via", ["sav-json", "ytvis-json", "png-objects"])
def test_label_map_round_trip(tmp_path: Path, via: str) -> None:
    src = tmp_path / "src"
    ref = make_png_set(src, np.random.default_rng(2))
    mid = tmp_path / ("mid.json" if via == "ytvis-json" else "mid")
    rep = fastmask.convert(src, mid, to=via, threads=2)
    assert (rep.converted, rep.frames) == (2, 8) and rep.src_format == "png"
    back = fastmask.convert(mid, tmp_path / "back", to="png", threads=2)
    assert back.src_format == via and back.overlapped_pixels == 0
    got = read_set(tmp_path / "back", ref)
    for n in ref:
        np.testing.assert_array_equal(got[n], ref[n])
    assert sorted(p.name for p in (tmp_path / "back" / "a").iterdir()) == [
        f"{i:05d}.png" for i in range(5)
    ]


def test_sav_json_matches_pycocotools_and_stats(sav_train, tmp_path: Path) -> None:
    root, vids = sav_train
    src = root / "sav_train"
    rep = fastmask.convert(src, tmp_path / "png", to="png", threads=1)
    assert rep.src_format == "sav-json" and rep.converted == 2
    objs = vids["sav_000001"]
    got = read_set(tmp_path / "png", ["sav_000001"])["sav_000001"]
    np.testing.assert_array_equal(got, labels_of(objs, [1, 2, 3]))
    over = sum(int(np.clip(objs[:, i].sum(0) - 1, 0, None).sum()) for i in range(objs.shape[1]))
    assert rep.overlaps.get("sav_000001", 0) == over > 0

    # objects -> JSON -> objects: identical masks, overlaps kept
    fastmask.convert(src, tmp_path / "obj", to="png-objects", threads=1)
    fastmask.convert(tmp_path / "obj", tmp_path / "json", to="sav-json", threads=1)
    fastmask.convert(tmp_path / "json", tmp_path / "obj2", to="png-objects", threads=1)
    for k in range(3):
        a = fastmask.read_pngs(sorted((tmp_path / "obj2/sav_000001" / f"{k:03d}").glob("*.png")))
        np.testing.assert_array_equal(a != 0, objs[k])

    data = json.loads((tmp_path / "json" / "sav_000001.json").read_text())
    assert "frame_names" not in data  # SA-V numbering kept
    for k in range(3):
        area = objs[k].reshape(objs.shape[1], -1).sum(1)
        vis = area > 0
        assert data["masklet_size_abs"][k] == pytest.approx(area[vis].mean())
        assert data["masklet_size_rel"][k] == pytest.approx(area[vis].mean() / (24 * 32))
        first = int(np.argmax(vis))
        assert data["masklet_first_appeared_frame"][k] == first
        assert data["masklet_visibility_changes"][k] == int(
            (vis[first + 1 :] != vis[first:-1]).sum()
        )
        for i in range(objs.shape[1]):
            r = data["masklet"][i][k]
            assert r["counts"] == compressed(objs[k, i])["counts"]  # pycocotools' bytes
    assert data["masklet_visibility_changes"][2] >= 2  # disappears and comes back
    # fields that cannot be computed from masks are carried from a SA-V source
    fastmask.convert(src, tmp_path / "direct", to="sav-json", threads=1)
    direct = json.loads((tmp_path / "direct" / "sav_000001.json").read_text())
    assert direct["masklet_type"] == ["manual"] * 3 and "masklet_type" not in data
    assert direct["masklet"] == data["masklet"]


def test_ytvis_output_read_by_pycocotools(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ref = make_png_set(src, np.random.default_rng(3))
    fastmask.convert(src, tmp_path / "out.json", to="ytvis-json", threads=1)
    data = json.loads((tmp_path / "out.json").read_text())
    assert [v["id"] for v in data["videos"]] == [1, 2]
    a = next(x for x in data["annotations"] if x["video_id"] == 1 and x["object_id"] == 7)
    for i, seg in enumerate(a["segmentations"]):
        np.testing.assert_array_equal(pmask.decode(seg), ref["a"][i] == 7)
        assert a["areas"][i] == int((ref["a"][i] == 7).sum())


def test_resume_executor_and_cli(tmp_path: Path, capsys) -> None:
    src = tmp_path / "src"
    ref = make_png_set(src, np.random.default_rng(4))
    with ThreadPoolExecutor(2) as ex:
        rep = fastmask.convert(src, tmp_path / "j", to="sav-json", executor=ex)
    assert rep.converted == 2
    fastmask.convert(src, tmp_path / "j1", to="sav-json", threads=1)
    for n in ref:
        assert (tmp_path / "j" / f"{n}.json").read_bytes() == (
            tmp_path / "j1" / f"{n}.json"
        ).read_bytes()
    (tmp_path / "j" / "b.json").unlink()
    rep = fastmask.convert(src, tmp_path / "j", to="sav-json")
    assert (rep.converted, rep.skipped) == (1, 1)
    assert main(["convert", str(src), str(tmp_path / "c"), "--to", "png-objects"]) == 0
    assert "2 videos converted" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "nope"), str(tmp_path / "d"), "--to", "png"]) == 1
    assert "nope" in capsys.readouterr().err


def test_bad_json_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    objs = make_objects(rng, 3, 2, 8, 8)
    f = tmp_path / "t" / "v_manual.json"
    write_sav(f, objs)
    data = json.loads(f.read_text())
    data["masklet"][1][0]["size"] = [9, 8]
    f.write_text(json.dumps(data))
    with pytest.raises(MetadataError, match=r"v_manual\.json, frame 1, object 0: RLE size"):
        SAV(tmp_path, "t")["v"].read_masks()
    data["masklet"][1] = data["masklet"][1][:1]
    f.write_text(json.dumps(data))
    with pytest.raises(MetadataError, match="frame 1 has 1 entries, expected 2"):
        SAV(tmp_path, "t")["v"].masklets()
    data["video_height"] = 100_000
    data["video_width"] = 100_000
    f.write_text(json.dumps(data))
    with pytest.raises(MetadataError, match="over the pixel limit"):
        SAV(tmp_path, "t")["v"].masklets()
    f.write_text("{not json")
    with pytest.raises(MetadataError, match=r"v_manual\.json: not valid JSON"):
        SAV(tmp_path, "t")["v"].masklets()
    write_sav(f, objs)
    data = json.loads(f.read_text())
    data["masklet"][0][1]["counts"] = [1, 2, 3]
    f.write_text(json.dumps(data))
    with pytest.raises(MetadataError, match="do not sum"):
        SAV(tmp_path, "t")["v"].masklets()
    write_sav(f, objs)
    data = json.loads(f.read_text())
    data["masklet"][2][1]["counts"] = "0" * 5
    f.write_text(json.dumps(data))
    with pytest.raises(fastmask.RleError, match=r"v_manual\.json: "):
        SAV(tmp_path, "t")["v"].read_masks()
    with pytest.raises(ValueError, match="to must be one of"):
        fastmask.convert(tmp_path / "t", tmp_path / "o", to="gif")
    # a failed video leaves no output and no temporary folder
    with pytest.raises(fastmask.RleError, match=r"v_manual\.json"):
        fastmask.convert(tmp_path / "t", tmp_path / "o", to="png")
    assert not (tmp_path / "o").exists() or list((tmp_path / "o").iterdir()) == []
    # ids over 255 cannot be uint8 labels: png refuses, per-object PNGs do not care
    write_sav(f, objs, ids=[0, 400])
    with pytest.raises(ValueError, match=r"v_manual\.json: object ids 0\.\.400 .* use png-objects"):
        fastmask.convert(tmp_path / "t", tmp_path / "o400", to="png")
    fastmask.convert(tmp_path / "t", tmp_path / "o400", to="png-objects")  # no such limit
    assert (tmp_path / "o400" / "v" / "400").is_dir()


def test_corpus_round_trip(tmp_path: Path) -> None:
    src = corpus_path("davis2017-osvos")
    names = sorted(p.name for p in src.iterdir() if p.is_dir())[:4]
    sub = tmp_path / "src"
    sub.mkdir()
    for n in names:
        (sub / n).symlink_to(src / n)
    fastmask.convert(sub, tmp_path / "json", to="sav-json")
    fastmask.convert(tmp_path / "json", tmp_path / "obj", to="png-objects")
    fastmask.convert(tmp_path / "obj", tmp_path / "json2", to="sav-json")
    fastmask.convert(tmp_path / "json2", tmp_path / "back", to="png")
    for n in names:
        want = fastmask.read_pngs(sorted((src / n).glob("*.png")))
        got = fastmask.read_pngs(sorted((tmp_path / "back" / n).glob("*.png")))
        np.testing.assert_array_equal(got, want)


def test_vis_nulls_to_objects_and_auto_masklets(tmp_path: Path, sav_train) -> None:
    ref = vis_json(tmp_path / "vis.json", np.random.default_rng(6))
    fastmask.convert(tmp_path / "vis.json", tmp_path / "obj", to="png-objects", threads=1)
    for k in range(3):
        folder = tmp_path / "obj" / "vidA" / f"{k + 1:03d}"
        want = [f"{i * 5:05d}.png" for i, p in enumerate(ref["present"][k]) if p]
        assert sorted(p.name for p in folder.iterdir()) == want  # null: no file
        got = fastmask.read_pngs([folder / n for n in want]) != 0
        np.testing.assert_array_equal(got, ref["objs"][k][[p for p in ref["present"][k]]])
    # the VIS file written back keeps nulls, categories and masks
    fastmask.convert(tmp_path / "obj", tmp_path / "vis2.json", to="ytvis-json", threads=1)
    v = YouTubeVIS(tmp_path / "vis2.json")["vidA"]
    for k in range(3):
        np.testing.assert_array_equal(v.object_masks(k + 1), ref["objs"][k])

    root, vids = sav_train
    rep = fastmask.convert(root / "sav_train", tmp_path / "all", to="png-objects", masklets="all")
    assert rep.converted == 2 and rep.objects == 3 + 2 + 2
    a = fastmask.read_pngs(sorted((tmp_path / "all/sav_000001/004").glob("*.png"))) != 0
    np.testing.assert_array_equal(a, vids["auto"][1])


def test_process_pool_jobs_pickle(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    src = tmp_path / "src"
    ref = make_png_set(src, np.random.default_rng(7))
    with ProcessPoolExecutor(2) as ex:
        rep = fastmask.convert(src, tmp_path / "o", to="png-objects", executor=ex)
    assert rep.converted == 2
    back = fastmask.convert(tmp_path / "o", tmp_path / "b", to="png", threads=1)
    assert back.overlapped_pixels == 0
    for n, lab in read_set(tmp_path / "b", ref).items():
        np.testing.assert_array_equal(lab, ref[n])


def test_corpus_davis_root_via_ytvis(tmp_path: Path) -> None:
    """A DAVIS root (Annotations/480p, detected) -> one YouTube-VIS file -> label maps."""
    src = corpus_path("davis2016", "Annotations", "480p")
    names = sorted(p.name for p in src.iterdir() if p.is_dir())[:3]
    ann = tmp_path / "DAVIS" / "Annotations" / "480p"
    ann.mkdir(parents=True)
    for n in names:
        (ann / n).symlink_to(src / n)
    rep = fastmask.convert(tmp_path / "DAVIS", tmp_path / "d.json", to="ytvis-json")
    assert rep.src_format == "png" and rep.converted == 3
    fastmask.convert(tmp_path / "d.json", tmp_path / "back", to="png")
    for n in names:
        want = fastmask.read_pngs(sorted((src / n).glob("*.png")))
        got = fastmask.read_pngs(sorted((tmp_path / "back" / n).glob("*.png")))
        np.testing.assert_array_equal(got, want)


# ----- properties, in memory (no files): label maps / object masks <-> SA-V JSON ---------------


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9)),
        elements=st.sampled_from([0, 0, 1, 2, 5, 255]),
    )
)
def test_property_label_maps_json_round_trip(lab: np.ndarray) -> None:
    t, h, w = lab.shape
    enc = fastmask.rle.encode_labels(lab, json=True)
    ids = sorted({i for f in enc for i in f})
    empty = _empty_rle(h, w)
    frames = [f"{i:05d}" for i in range(t)]
    m = Masklets("v", h, w, frames, ids, [[f.get(i, empty) for i in ids] for f in enc])
    back = parse_sav(json.loads(json.dumps(sav_fields(m))), "mem", "v")
    assert back.frames == frames and back.ids == ids
    got, over = decode_frames(back, 0, t)
    np.testing.assert_array_equal(got, lab)
    assert not over.any()


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.bool_,
        st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)),
    )
)
def test_property_objects_json_round_trip_and_stats(objs: np.ndarray) -> None:
    n, t, h, w = objs.shape
    rles = [[compressed(objs[k, i]) for k in range(n)] for i in range(t)]
    m = Masklets("v", h, w, [f"{4 * i:05d}" for i in range(t)], list(range(n)), rles)
    d = json.loads(json.dumps(sav_fields(m)))
    back = parse_sav(d, "mem", "v")
    for k in range(n):
        idx, masks = back.object_masks(k)
        assert idx == list(range(t))
        np.testing.assert_array_equal(masks, objs[k])
        area = objs[k].reshape(t, -1).sum(1)
        vis = area > 0
        assert d["masklet_size_abs"][k] == pytest.approx(area[vis].mean() if vis.any() else 0.0)
        first = int(np.argmax(vis)) if vis.any() else 0
        assert d["masklet_first_appeared_frame"][k] == first
        assert d["masklet_frame_count"][k] == t - first
    # label maps: the larger id wins; overlapped pixels = covered more than once
    lab, over = decode_frames(back, 0, t)
    np.testing.assert_array_equal(lab, labels_of(objs, [k + 1 for k in range(n)]))
    np.testing.assert_array_equal(over, np.clip(objs.sum(0) - 1, 0, None).sum(axis=(1, 2)))
