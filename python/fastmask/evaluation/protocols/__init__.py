"""The evaluation protocols: one module per protocol, stating only its rules.

=============  ==============================  ==============================================
protocol       module                          reproduces
=============  ==============================  ==============================================
davis2017      :mod:`.davis`                   davis2017-evaluation (semi-supervised and
                                               unsupervised)
davis2016      :mod:`.davis`                   the DAVIS-2016 toolkit (binary masks)
vos-benchmark  :mod:`.vos`                     hkchengrex/vos-benchmark
sav            :mod:`.vos`                     SA-V's sav_evaluator
youtube-vos    :mod:`.youtube_vos`             the YouTube-VOS challenge rules (local scorer)
mose, mosev2   :mod:`.mose`                    MOSE v1 (DAVIS rules), MOSE-api v2 score.py
lvos           :mod:`.lvos`                    lvos-evaluation
sparse         :mod:`.sparse`                  DAVIS rules on sparsely annotated DAVIS sets
=============  ==============================  ==============================================

How an evaluation runs (``fastmask.evaluation``): ``plan`` calls the protocol's
:meth:`~._base.Protocol.configure` (check its options) and :meth:`~._base.Protocol.discover`
(read the sequence list: one ``Job`` per video); ``run_job`` calls
:meth:`~._base.Protocol.prepare` (list the video's frames, check its result files, say which
frame pairs the compiled engine scores and with which label rule), runs the shared engine, then
:meth:`~._base.Protocol.finish` (per-object series and statistics); ``Plan.merge`` orders the
partial results and builds the one result type, ``fastmask.Evaluation``, whose global numbers,
files and report come from :meth:`~._base.Protocol.global_scores`,
:meth:`~._base.Protocol.files` and :meth:`~._base.Protocol.report`. Job running, the engine,
progress, merging, atomic writing, ``per_frame()`` and the executors are shared.

Adding a protocol:

1. a module here with a :class:`~._base.Protocol` subclass (``name``, ``keywords`` = its own
   options and defaults, ``default_decay``, and the five methods above; the DAVIS-style
   defaults of ``global_scores`` / ``files`` / ``report`` may be enough; dataset protocols
   derive from :class:`~._dataset.DatasetProtocol`), its docstring saying what it reproduces
   and which choices it makes;
2. its instance in :data:`PROTOCOLS` below;
3. tests comparing its numbers and files with the reference tool on generated data (as
   ``tests/test_protocols_*.py`` do) and one run through ``fastmask.evaluation.run`` with an
   executor (``tests/test_eval_distributed.py`` covers every protocol in :data:`PROTOCOLS`).
"""

from __future__ import annotations

from fastmask.evaluation._diagnose import suggest_protocol
from fastmask.evaluation.protocols._base import Protocol
from fastmask.evaluation.protocols.davis import Davis2016, Davis2017
from fastmask.evaluation.protocols.lvos import Lvos
from fastmask.evaluation.protocols.mose import Mose, MoseV2
from fastmask.evaluation.protocols.sparse import Sparse
from fastmask.evaluation.protocols.vos import Sav, VosBenchmark
from fastmask.evaluation.protocols.youtube_vos import YouTubeVOS

#: name -> rules, in the order ``fastmask eval --protocol`` lists them.
PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Davis2017(),
        Davis2016(),
        VosBenchmark(),
        Sav(),
        YouTubeVOS(),
        Mose(),
        MoseV2(),
        Lvos(),
        Sparse(),
    )
}


def get_protocol(name: str) -> Protocol:
    """The rules of protocol ``name``; ValueError naming the protocols (and the closest one)
    for an unknown one."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(
            f"protocol must be one of {', '.join(PROTOCOLS)}; got {name!r}"
            + suggest_protocol(str(name), tuple(PROTOCOLS))
        ) from None


__all__ = ["PROTOCOLS", "Protocol", "get_protocol"]
