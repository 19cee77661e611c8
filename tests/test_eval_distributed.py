"""``fastmask.evaluation.run`` on Dask (a LocalCluster of 2 worker processes) and Ray (2 CPUs):
every protocol's numbers and files equal the in-process run's, byte for byte. Skipped when
``dask.distributed`` / ``ray`` are not installed (``pip install 'fastmask[distributed]'``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import fastmask
import pytest
from evalref import nine
from fastmask.evaluation import plan, run

pytestmark = pytest.mark.skipif(
    not hasattr(fastmask._fastmask, "_eval_sequences"),
    reason="compiled evaluation engine not built",
)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield "ray"
    finally:
        ray.shutdown()


def _check(executor: Any, nine_cases: dict[str, nine.Case], tmp_path) -> None:
    for case, (gt, res, opts) in nine_cases.items():
        protocol = nine.protocol_of(case)
        local = fastmask.evaluate(gt, res, protocol, threads=1, **opts)
        remote = run(plan(gt, res, protocol, **opts), executor, batch_size=1)
        assert nine.comparable_files(remote) == nine.comparable_files(local), case
        assert remote.per_frame() == local.per_frame(), case
        a = local.write(tmp_path / case / "local")
        b = remote.write(tmp_path / case / "remote")
        if protocol != "mosev2":
            assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b], case
    # Errors raised in a worker reach the caller with their message.
    gt, res, opts = nine_cases["davis2017"]
    with pytest.raises(ValueError, match="exceeds the limit of 10 pixels"):
        run(plan(gt, res, max_pixels=10), executor)


def test_dask_local_cluster_equals_in_process(dask_client, nine_cases, tmp_path):
    _check(dask_client, nine_cases, tmp_path)


def test_ray_equals_in_process(ray_cluster, nine_cases, tmp_path):
    _check(ray_cluster, nine_cases, tmp_path)


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_cli_dask_local(nine_cases, tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    from fastmask.evaluation.cli import main

    monkeypatch.setenv("FASTMASK_NUM_THREADS", "2")  # --dask local: 2 worker processes
    gt, res, _ = nine_cases["davis2017"]
    argv = ["eval", "--gt", str(gt), "--results", str(res), "--no-progress"]
    assert main([*argv, "--output", str(tmp_path / "d"), "--dask", "local"]) == 0
    # The report says where the videos were scored, not "all threads" of this process.
    out = capsys.readouterr().out
    assert "(on a local Dask cluster, 1 thread(s) per task)" in out and "all threads" not in out
    assert main([*argv, "--output", str(tmp_path / "l")]) == 0
    for name in ("global_results-val.csv", "per-sequence_results-val.csv"):
        assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "l" / name).read_bytes()
