"""Exact minimum-cost assignment, identical to ``scipy.optimize.linear_sum_assignment``.

DAVIS-2017 unsupervised evaluation matches up to 20 proposals to the ground-truth objects with
scipy's solver. Its answer is unique only up to ties, and a tie (two proposals scoring the same,
e.g. two empty proposals against an object) is common, so matching scipy's *tie-breaking* matters
for the per-object rows of the official files. This is the same shortest-augmenting-path method
scipy uses (Crouse, "On implementing 2D rectangular assignment algorithms", 2016), with the same
scan order and the same preference for a free column on equal reduced cost, so it returns scipy's
pairs; ``tests/test_eval_assign.py`` checks this on random matrices with many ties. The matrices
are at most 20 x N, so pure Python costs microseconds and scipy is not a runtime dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _augmenting_path(
    cost: list[list[float]],
    u: list[float],
    v: list[float],
    path: list[int],
    row4col: list[int],
    shortest: list[float],
    cur_row: int,
    sr: list[bool],
    sc: list[bool],
) -> tuple[int, float]:
    nc = len(v)
    min_val = 0.0
    # Columns still to scan, in scipy's order (reversed, removal by swap with the last).
    remaining = [nc - it - 1 for it in range(nc)]
    n_remaining = nc
    for j in range(nc):
        sc[j] = False
        shortest[j] = math.inf
    for i in range(len(sr)):
        sr[i] = False
    sink = -1
    i = cur_row
    while sink == -1:
        index = -1
        lowest = math.inf
        sr[i] = True
        row = cost[i]
        for it in range(n_remaining):
            j = remaining[it]
            r = min_val + row[j] - u[i] - v[j]
            if r < shortest[j]:
                path[j] = i
                shortest[j] = r
            # On equal cost prefer a column that ends the path (a free column), like scipy.
            if shortest[j] < lowest or (shortest[j] == lowest and row4col[j] == -1):
                lowest = shortest[j]
                index = it
        min_val = lowest
        if min_val == math.inf:
            return -1, min_val
        j = remaining[index]
        if row4col[j] == -1:
            sink = j
        else:
            i = row4col[j]
        sc[j] = True
        n_remaining -= 1
        remaining[index] = remaining[n_remaining]
    return sink, min_val


def linear_sum_assignment(cost: Sequence[Sequence[float]]) -> tuple[list[int], list[int]]:
    """Rows and columns of a minimum-cost assignment of a finite (n, m) cost matrix.

    Same result as ``scipy.optimize.linear_sum_assignment(cost)``: ``min(n, m)`` pairs, rows
    increasing, ties broken as scipy breaks them.

    >>> linear_sum_assignment([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    ([0, 1, 2], [1, 0, 2])
    """
    matrix = [[float(x) for x in row] for row in cost]
    nr = len(matrix)
    nc = len(matrix[0]) if nr else 0
    if nr == 0 or nc == 0:
        return [], []
    for row in matrix:
        if len(row) != nc:
            raise ValueError("cost matrix rows must all have the same length")
        if any(math.isnan(x) or math.isinf(x) for x in row):
            raise ValueError("cost matrix must be finite")
    transpose = nc < nr
    if transpose:
        matrix = [list(col) for col in zip(*matrix)]
        nr, nc = nc, nr
    u = [0.0] * nr
    v = [0.0] * nc
    shortest = [math.inf] * nc
    path = [-1] * nc
    col4row = [-1] * nr
    row4col = [-1] * nc
    sr = [False] * nr
    sc = [False] * nc
    for cur_row in range(nr):
        sink, min_val = _augmenting_path(matrix, u, v, path, row4col, shortest, cur_row, sr, sc)
        if sink < 0:  # pragma: no cover - impossible for finite costs
            raise ValueError("cost matrix is infeasible")
        u[cur_row] += min_val
        for i in range(nr):
            if sr[i] and i != cur_row:
                u[i] += min_val - shortest[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - shortest[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == cur_row:
                break
    if transpose:
        order = sorted(range(nr), key=lambda r: col4row[r])
        return [col4row[r] for r in order], order
    return list(range(nr)), col4row
