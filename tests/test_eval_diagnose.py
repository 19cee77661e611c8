"""Path mistakes a newcomer makes with the DAVIS-2017 layout: each error names what was found
where the files were expected and the argument (``--results X``, ``--gt X``, ``--set X``) that
would work, both from ``fastmask.evaluate`` and from ``fastmask eval``."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from evalref import gen, nine
from fastmask import EvaluationError
from fastmask.cli import main as fastmask_main
from fastmask.evaluation import evaluate
from fastmask.evaluation._diagnose import results_hint


@pytest.fixture
def ds(tmp_path) -> Path:
    rng = np.random.default_rng(5)
    gt = {
        "alpha": gen.make_sequence(rng, 20, 31, 5, ["always", "always"]),
        "beta": gen.make_sequence(rng, 18, 25, 4, ["always"]),
    }
    gen.write_davis(tmp_path / "DAVIS", gt)
    gen.write_results(tmp_path / "res", {k: v.copy() for k, v in gt.items()})
    return tmp_path


def _fails(gt: Path, results: Path, *flags: str, capsys) -> tuple[str, str]:
    """The API error message and the CLI's stderr for one mistake."""
    kw = {"subset": flags[1]} if flags[:1] == ("--set",) else {}
    with pytest.raises((FileNotFoundError, EvaluationError)) as e:
        evaluate(gt, results, **kw)
    argv = ["eval", "--gt", str(gt), "--results", str(results), "--no-progress", *flags]
    assert fastmask_main([*argv, "--output", str(results.parent / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastmask eval: error: ")
    return str(e.value), err


def _says(texts: tuple[str, str], *parts: str) -> None:
    for text in texts:
        for part in parts:
            assert part in text, f"{part!r} not in {text!r}"


def test_results_one_level_too_deep(ds, capsys):
    # --results res/alpha: one sequence's folder instead of the folder of sequences.
    msgs = _fails(ds / "DAVIS", ds / "res" / "alpha", capsys=capsys)
    _says(msgs, "holds frames (00000.png", "not sequence folders", f"--results {ds / 'res'}")


def test_results_one_level_too_shallow(ds, capsys):
    # The method wrote res/osvos/<seq>; --results res.
    (ds / "res" / "osvos").mkdir()
    for seq in ("alpha", "beta"):
        shutil.move(ds / "res" / seq, ds / "res" / "osvos" / seq)
    msgs = _fails(ds / "DAVIS", ds / "res", capsys=capsys)
    _says(msgs, f"{ds / 'res' / 'osvos' / 'alpha'} exists", f"--results {ds / 'res' / 'osvos'}")


def test_results_folder_empty(ds, capsys):
    shutil.rmtree(ds / "res")
    (ds / "res").mkdir()
    msgs = _fails(ds / "DAVIS", ds / "res", capsys=capsys)
    _says(msgs, f"the results folder {ds / 'res'} is empty", "one folder per sequence")


def test_results_folder_missing_suggests_the_close_name(ds, capsys):
    msgs = _fails(ds / "DAVIS", ds / "ress", capsys=capsys)
    _says(msgs, f"{ds / 'ress'} does not exist", f"did you mean --results {ds / 'res'}")


def test_gt_is_the_annotations_folder(ds, capsys):
    ann = ds / "DAVIS" / "Annotations" / "480p"
    msgs = _fails(ann, ds / "res", capsys=capsys)
    _says(msgs, "is the Annotations/480p folder of the DAVIS root", f"--gt {ds / 'DAVIS'}")


def test_gt_one_level_too_shallow(ds, capsys):
    msgs = _fails(ds, ds / "res", capsys=capsys)
    _says(msgs, "is not a DAVIS root but holds one", f"--gt {ds / 'DAVIS'}")


def test_mistyped_set(ds, capsys):
    msgs = _fails(ds / "DAVIS", ds / "res", "--set", "vall", capsys=capsys)
    _says(msgs, "has no vall.txt; sets found: 2017/val", "did you mean --set val?")


def test_results_saved_as_jpg(ds, capsys):
    for p in (ds / "res" / "alpha").glob("*.png"):
        p.rename(p.with_suffix(".jpg"))
    msgs = _fails(ds / "DAVIS", ds / "res", capsys=capsys)
    _says(msgs, "holds 00001.jpg", "results must be PNG label maps", "lossy", "save each frame")


def test_unpadded_frame_names(ds, capsys):
    for p in (ds / "res" / "alpha").glob("*.png"):
        p.rename(p.with_name(f"{int(p.stem)}.png"))
    msgs = _fails(ds / "DAVIS", ds / "res", capsys=capsys)
    _says(msgs, "holds 1.png, 2.png", "1.png -> 00001.png", "name the result frames as")
    # The shell loop given renames them as the ground truth names them.
    cmd = msgs[0].split("in each sequence folder: ")[1]
    subprocess.run(["bash", "-c", cmd], cwd=ds / "res" / "alpha", check=True)
    assert sorted(p.name for p in (ds / "res" / "alpha").iterdir()) == sorted(
        p.name for p in (ds / "DAVIS" / "Annotations" / "480p" / "alpha").iterdir()
    )


def test_only_some_frames_missing_adds_no_guess(ds):
    # Named right, one absent: the error's own list of missing frames says it all.
    (ds / "res" / "alpha" / "00003.png").unlink()
    expected = sorted(p.name for p in (ds / "DAVIS" / "Annotations" / "480p" / "alpha").iterdir())
    assert results_hint(ds / "res", "alpha", expected[1:-1]) == ""
    with pytest.raises(EvaluationError) as e:
        evaluate(ds / "DAVIS", ds / "res")
    assert str(e.value).endswith("scores missing frames as empty masks)")


def test_extra_result_sequence_warns(ds, capsys):
    shutil.copytree(ds / "res" / "alpha", ds / "res" / "gamma")
    with pytest.warns(
        UserWarning, match=r"1 result folder\(s\) match no ground-truth sequence.*gamma"
    ):
        ev = evaluate(ds / "DAVIS", ds / "res")
    assert ev.n_sequences == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a selection is not warned about
        evaluate(ds / "DAVIS", ds / "res", sequences=["alpha"])
    argv = ["eval", "--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--no-progress"]
    assert fastmask_main([*argv, "--output", str(ds / "out")]) == 0
    err = capsys.readouterr().err
    assert "fastmask eval: warning:" in err and "gamma" in err


def test_mistyped_flag_and_protocol_suggest_the_right_one(ds, capsys):
    with pytest.raises(SystemExit):
        fastmask_main(["eval", "--gt", str(ds / "DAVIS"), "--resutls", str(ds / "res")])
    err = capsys.readouterr().err
    assert "--resutls is not an option; did you mean --results?" in err
    with pytest.raises(SystemExit):
        fastmask_main(["eval", "--gt", "g", "--results", "r", "--protocol", "davis2071"])
    assert "did you mean 'davis2017'?" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"did you mean 'davis2017'\?"):
        evaluate(ds / "DAVIS", ds / "res", "davis2071")
    with pytest.raises(SystemExit):
        fastmask_main(["evl"])
    assert "did you mean 'eval'?" in capsys.readouterr().err
    # An unknown flag next to every required one: argparse's "unrecognized arguments".
    with pytest.raises(SystemExit):
        fastmask_main(["eval", "--gt", "g", "--results", "r", "--outptu", "o"])
    assert "--outptu is not an option; did you mean --output?" in capsys.readouterr().err


# --- switching from davis2017-evaluation, never losing the scores ------------------------------


def test_davis2017_evaluation_flags_are_aliases(ds, capsys):
    ours = ["eval", "--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--no-progress"]
    assert fastmask_main([*ours, "--output", str(ds / "a")]) == 0
    capsys.readouterr()
    # evaluation_method.py's command line, with `python evaluation_method.py` -> `fastmask eval`
    theirs = ["--task", "semi-supervised", "--results_path", str(ds / "res"), "--set", "val"]
    theirs += ["--davis_path", str(ds / "DAVIS")]
    assert fastmask_main(["eval", *theirs, "--no-progress", "--output", str(ds / "b")]) == 0
    capsys.readouterr()
    for name in ("global_results-val.csv", "per-sequence_results-val.csv"):
        assert (ds / "a" / name).read_text() == (ds / "b" / name).read_text()
    # Without --task, evaluation_method.py evaluates the unsupervised task: so does the alias,
    # and says so.
    theirs = ["--davis_path", str(ds / "DAVIS"), "--results_path", str(ds / "res")]
    assert fastmask_main(["eval", *theirs, "--no-progress", "--output", str(ds / "c")]) == 1
    err = capsys.readouterr().err
    assert "using its default, unsupervised (pass --task semi-supervised" in err
    assert "has no Annotations_unsupervised/" in err


def test_report_is_printed_before_a_failed_write(ds, capsys):
    blocker = ds / "not-a-folder"
    blocker.write_text("")
    argv = ["eval", "--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--no-progress"]
    assert fastmask_main([*argv, "--output", str(blocker / "out")]) == 1
    out, err = capsys.readouterr()
    assert "davis2017 semi-supervised, set val: 2 sequences" in out  # the report was printed
    assert f"could not write the result files into {blocker / 'out'}" in err
    assert "the scores above are complete" in err and "--output" in err


def test_check_submission_ignores_what_fastmask_eval_wrote(ds, capsys):
    from fastmask.submission import check_submission

    argv = ["eval", "--gt", str(ds / "DAVIS"), "--results", str(ds / "res"), "--no-progress"]
    assert fastmask_main(argv) == 0  # writes its CSVs into the results folder, as the README
    assert (ds / "res" / "global_results-val.csv").is_file()
    assert check_submission(ds / "res", "davis2017", ds / "DAVIS") == []
    argv = ["check-submission", str(ds / "res"), "--protocol", "davis2017"]
    assert fastmask_main([*argv, "--gt-meta", str(ds / "DAVIS")]) == 0
    (ds / "res" / "notes.txt").write_text("")  # anything else is still reported
    problems = check_submission(ds / "res", "davis2017", ds / "DAVIS")
    assert [(p.kind, Path(p.path).name) for p in problems] == [("extra-file", "notes.txt")]


def test_rgb_results_in_custom_colours_with_colormap(ds, capsys):
    import json

    import fastmask
    from PIL import Image

    colours = np.array([[0, 0, 0], [250, 10, 10], [10, 250, 10], [10, 10, 250]], np.uint8)
    want = evaluate(ds / "DAVIS", ds / "res")
    rgb = ds / "rgb"
    for p in sorted((ds / "res").rglob("*.png")):
        out = rgb / p.relative_to(ds / "res")
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(colours[fastmask.read_png(p)], "RGB").save(out)
    with pytest.raises(fastmask.PngError, match="colormap="):
        evaluate(ds / "DAVIS", rgb)
    argv = ["eval", "--gt", str(ds / "DAVIS"), "--results", str(rgb), "--no-progress"]
    assert fastmask_main([*argv, "--output", str(ds / "o0")]) == 1
    assert "(--colormap FILE on the command line)" in capsys.readouterr().err
    got = evaluate(ds / "DAVIS", rgb, colormap=colours)
    assert got.global_scores == want.global_scores
    # The three --colormap file formats.
    fastmask.write_png(ds / "palette.png", np.zeros((2, 2), np.uint8), colours)
    (ds / "colours.json").write_text(json.dumps(colours.tolist()))
    (ds / "colours.txt").write_text("".join(f"{r} {g} {b}\n" for r, g, b in colours))
    for i, f in enumerate(("palette.png", "colours.json", "colours.txt")):
        out = ds / f"o{i + 1}"
        assert fastmask_main([*argv, "--output", str(out), "--colormap", str(ds / f)]) == 0
        assert (out / "global_results-val.csv").read_text() == want.files()[
            "global_results-val.csv"
        ]
    (ds / "bad.txt").write_text("0 0 0\n1 2\n")
    assert fastmask_main([*argv, "--colormap", str(ds / "bad.txt")]) == 1
    assert "bad.txt:2: expected 'R G B'" in capsys.readouterr().err


def test_vos_gt_given_as_one_video_folder(ds, capsys):
    video = ds / "DAVIS" / "Annotations" / "480p" / "alpha"
    with pytest.raises(EvaluationError) as e:
        evaluate(video, ds / "res", "vos-benchmark")
    argv = ["eval", "--protocol", "vos-benchmark", "--gt", str(video), "--results", str(ds / "res")]
    assert fastmask_main([*argv, "--no-progress", "--output", str(ds / "out")]) == 1
    for text in (str(e.value), capsys.readouterr().err):
        assert "holds frames (00000.png" in text and "not video folders" in text
        assert f"--gt {video.parent}" in text


def _rgb_results(ds: Path, colours: np.ndarray) -> Path:
    import fastmask
    from PIL import Image

    rgb = ds / "rgb"
    for p in sorted((ds / "res").rglob("*.png")):
        out = rgb / p.relative_to(ds / "res")
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(colours[fastmask.read_png(p)], "RGB").save(out)
    return rgb


def test_colormap_travels_in_every_job(ds):
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from fastmask.evaluation import plan, run

    colours = np.array([[0, 0, 0], [250, 10, 10], [10, 250, 10], [10, 10, 250]], np.uint8)
    rgb = _rgb_results(ds, colours)
    p = plan(ds / "DAVIS", rgb, colormap=colours)
    # Each job carries the colours (no global state): a worker process reads RGB masks alike.
    for job in p.jobs:
        assert pickle.loads(pickle.dumps(job)).settings.colormap == colours.tobytes()
    want = evaluate(ds / "DAVIS", ds / "res")
    with ProcessPoolExecutor(2) as pool:
        got = run(p, pool)
    assert got.files() == want.files()
    ann = ds / "DAVIS" / "Annotations" / "480p"
    got = evaluate(ann, rgb, "vos-benchmark", colormap=colours.tolist())
    assert got.files() == evaluate(ann, ds / "res", "vos-benchmark").files()
    # Checked before any folder is listed (the gt here does not exist).
    with pytest.raises(ValueError, match="colormap= is not available for protocol 'youtube-vos'"):
        evaluate(ds / "nowhere", rgb, "youtube-vos", colormap=colours)
    with pytest.raises(ValueError, match=r"colormap must have shape \(N, 3\)"):
        evaluate(ds / "nowhere", rgb, colormap=[[0, 0]])


@pytest.mark.parametrize("case", [c for c in nine.CASES if c != "davis2017-unsupervised"])
def test_every_protocol_warns_about_unscored_result_folders(nine_cases, tmp_path, case):
    from fastmask.evaluation import plan

    gt, res, options = nine_cases[case]
    copy = tmp_path / "res"
    shutil.copytree(res, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        plan(gt, copy, case, **options)  # no extra folder: no warning
    (copy / "zz-not-a-video").mkdir()
    with pytest.warns(UserWarning, match=r"1 result folder\(s\) match no .*zz-not-a-video"):
        p = plan(gt, copy, case, **options)
    # A subset (sequences=) is not a reason to warn about the others.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        plan(gt, copy, case, sequences=[p.jobs[0].sequence], **options)


def test_summary_names_the_executor_instead_of_all_threads(ds):
    from fastmask.evaluation.cli import summary

    ev = evaluate(ds / "DAVIS", ds / "res")
    assert "(all threads)" in summary(ev, 1.0, None)
    assert "(3 threads)" in summary(ev, 1.0, 3)
    s = summary(ev, 1.0, None, "Dask at tcp://h:8786")
    assert "(on Dask at tcp://h:8786, 1 thread(s) per task)" in s and "all threads" not in s
    assert "(on Ray, 2 thread(s) per task)" in summary(ev, 1.0, 2, "Ray")
