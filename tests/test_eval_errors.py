"""Bad inputs: each gives its own clear error naming the file(s), a non-zero exit status from the
CLI, and no output file. Where the reference tools exit (often with status 0 and no file), or
crash, fastmask raises."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import fastmask
import numpy as np
import pytest
from evalref import davis as ref
from evalref import gen
from fastmask import EvaluationError
from fastmask.evaluation import evaluate
from fastmask.evaluation.cli import main

needs_engine = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)


@pytest.fixture
def ds(tmp_path) -> Path:
    rng = np.random.default_rng(3)
    gt = {
        "alpha": gen.make_sequence(rng, 30, 47, 5, ["always", "always"]),
        "beta": gen.make_sequence(rng, 24, 33, 4, ["always"]),
    }
    gen.write_davis(tmp_path / "DAVIS", gt)
    gen.write_davis(tmp_path / "DAVIS", gt, annotations="Annotations_unsupervised")
    gen.write_results(
        tmp_path / "res", {k: gen.perturb(rng, v, [1, 2], drop=False) for k, v in gt.items()}
    )
    return tmp_path


def cli(ds: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--gt",
        str(ds / "DAVIS"),
        "--results",
        str(ds / "res"),
        "--output",
        str(ds / "out"),
        "--no-progress",
        *extra,
    ]


def assert_cli_fails(ds: Path, capsys, *extra: str, message: str) -> str:
    assert main(cli(ds, *extra)) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastmask eval: error: ") and message in err, err
    assert not (ds / "out").exists()
    return err


def test_missing_sequence(ds, capsys):
    shutil.rmtree(ds / "res" / "beta")
    with pytest.raises(FileNotFoundError) as e:
        evaluate(ds / "DAVIS", ds / "res")
    assert e.value.errno == errno.ENOENT and e.value.filename == str(ds / "res" / "beta")
    assert "'beta'" in str(e.value)
    assert_cli_fails(ds, capsys, message=str(ds / "res" / "beta"))


def test_missing_frame_names_it_and_allow_missing_scores_it_empty(ds, capsys):
    (ds / "res" / "alpha" / "00002.png").unlink()
    with pytest.raises(
        EvaluationError, match=r"1 result frame\(s\) of sequence 'alpha' missing: 00002.png"
    ):
        evaluate(ds / "DAVIS", ds / "res")
    assert_cli_fails(ds, capsys, message="00002.png")
    if not hasattr(fastmask._fastmask, "_eval_sequences"):
        return
    ev = evaluate(ds / "DAVIS", ds / "res", allow_missing=True)
    assert ev.missing == 1
    # Scored exactly as an all-zero result frame would be.
    gen.write_png(ds / "res" / "alpha" / "00002.png", np.zeros((30, 47), np.uint8))
    expected, _ = ref.evaluate_davis(ds / "DAVIS", ds / "res")
    for o in ev.objects:
        np.testing.assert_array_equal(o.J, expected[o.name][0])
        np.testing.assert_array_equal(o.F, expected[o.name][1])
    assert main(cli(ds, "--allow-missing")) == 0


def test_missing_image_set(ds, capsys):
    with pytest.raises(FileNotFoundError, match="sequence list"):
        evaluate(ds / "DAVIS", ds / "res", subset="train")
    assert_cli_fails(ds, capsys, "--set", "train", message="ImageSets")


@needs_engine
def test_result_label_not_in_ground_truth(ds, capsys):
    bad = ds / "res" / "beta" / "00001.png"
    gen.write_png(bad, np.full((24, 33), 2, np.uint8))
    with pytest.raises(ref.ReferenceExit):
        ref.evaluate_davis(ds / "DAVIS", ds / "res")
    with pytest.raises(EvaluationError, match="label 2") as e:
        evaluate(ds / "DAVIS", ds / "res")
    assert str(bad) in str(e.value)
    assert_cli_fails(ds, capsys, message=str(bad))


@needs_engine
def test_too_many_proposals(ds, capsys):
    bad = ds / "res" / "alpha" / "00000.png"
    gen.write_png(bad, np.full((30, 47), 21, np.uint8))
    with pytest.raises(EvaluationError, match="21") as e:
        evaluate(ds / "DAVIS", ds / "res", task="unsupervised")
    assert str(bad) in str(e.value)
    assert_cli_fails(ds, capsys, "--task", "unsupervised", message=str(bad))


@needs_engine
def test_size_mismatch_names_both_files(ds, capsys):
    bad = ds / "res" / "alpha" / "00003.png"
    gen.write_png(bad, np.zeros((30, 48), np.uint8))
    with pytest.raises(EvaluationError) as e:
        evaluate(ds / "DAVIS", ds / "res")
    msg = str(e.value)
    assert (
        str(bad) in msg
        and str(ds / "DAVIS" / "Annotations" / "480p" / "alpha" / "00003.png") in msg
    )
    assert "48" in msg and "47" in msg
    assert_cli_fails(ds, capsys, message=str(bad))


@needs_engine
def test_undecodable_result(ds, capsys):
    bad = ds / "res" / "beta" / "00002.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    with pytest.raises(fastmask.PngError) as e:
        evaluate(ds / "DAVIS", ds / "res")
    assert str(bad) in str(e.value)
    assert_cli_fails(ds, capsys, message=str(bad))


@needs_engine
def test_sav_object_png_with_two_objects(tmp_path):
    m = np.zeros((5, 20, 30), np.uint8)
    m[:, 2:8, 2:8] = 1
    gen.write_sav(tmp_path / "gt", {"v": {"000": m}})
    gen.write_sav(tmp_path / "pred", {"v": {"000": m}})
    bad = tmp_path / "pred" / "v" / "000" / "00002.png"
    labels = (m[2] * 255).astype(np.uint8)
    labels[15:, 20:] = 7
    gen.write_png(bad, labels, palette=False)
    with pytest.raises(EvaluationError, match="one object per PNG") as e:
        evaluate(tmp_path / "gt", tmp_path / "pred", "sav")
    assert str(bad) in str(e.value)


def test_bad_options(ds):
    with pytest.raises(ValueError, match="protocol"):
        evaluate(ds / "DAVIS", ds / "res", "davis2018")
    with pytest.raises(ValueError, match="task"):
        evaluate(ds / "DAVIS", ds / "res", task="semi")
    with pytest.raises(FileNotFoundError):
        evaluate(ds / "nope", ds / "res")


@needs_engine
def test_write_is_atomic_and_cli_prints_summary(ds, capsys):
    assert main(cli(ds)) == 0
    out = capsys.readouterr().out
    assert "J&F" in out and "worst sequences" in out and "wrote" in out
    names = sorted(os.listdir(ds / "out"))
    assert names == ["global_results-val.csv", "per-sequence_results-val.csv"]


@needs_engine
def test_sav_object_never_in_ground_truth(tmp_path):
    m = np.zeros((5, 20, 30), np.uint8)
    gen.write_sav(tmp_path / "gt", {"v": {"000": m}})
    m[:, 3:9, 4:9] = 1
    gen.write_sav(tmp_path / "pred", {"v": {"000": m}})
    with pytest.raises(EvaluationError, match="object '000' of video 'v' is empty in every"):
        evaluate(tmp_path / "gt", tmp_path / "pred", "sav")


@needs_engine
def test_write_leaves_nothing_behind_on_failure(ds, monkeypatch):
    ev = evaluate(ds / "DAVIS", ds / "res")
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        ev.write(ds / "out")
    assert calls and os.listdir(ds / "out") == []


@needs_engine
def test_progress_callback_and_sequence_subset(ds):
    calls = []
    ev = evaluate(
        ds / "DAVIS", ds / "res", sequences=["beta"], progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (1, 1) and {o.sequence for o in ev.objects} == {"beta"}
    with pytest.raises(EvaluationError, match="gamma"):
        evaluate(ds / "DAVIS", ds / "res", sequences=["gamma"])


@needs_engine
def test_vos_benchmark_follows_a_dataset_root_to_its_annotations(tmp_path):
    """Like vos-benchmark: given ``root`` holding ``Annotations/<video>`` (YouTube-VOS style),
    the videos are read from ``Annotations``."""
    rng = np.random.default_rng(8)
    stack = gen.make_sequence(rng, 20, 26, 4, ["always"])
    gen.write_frames(tmp_path / "root" / "Annotations" / "v1", stack)
    (tmp_path / "root" / "JPEGImages" / "v1").mkdir(parents=True)
    gen.write_frames(tmp_path / "res" / "v1", stack)
    direct = evaluate(tmp_path / "root" / "Annotations", tmp_path / "res", "vos-benchmark")
    ev = evaluate(tmp_path / "root", tmp_path / "res", "vos-benchmark")
    assert ev.files() == direct.files() and [o.sequence for o in ev.objects] == ["v1"]
