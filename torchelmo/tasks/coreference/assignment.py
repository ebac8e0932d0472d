"""Maximum-weight bipartite matching (the Hungarian algorithm), for the CEAF metrics."""
from typing import List, Sequence, Tuple

import numpy as np


def max_weight_matching(weights: Sequence[Sequence[float]]) -> Tuple[float, List[Tuple[int, int]]]:
    """The one-to-one pairing of rows with columns of ``weights`` ``(rows, columns)`` that
    maximises the summed weight (each row and column used at most once; every weight is
    assumed non-negative, so leaving one unmatched never helps). Returns the total and the
    ``(row, column)`` pairs."""
    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.size == 0:
        return 0.0, []
    transposed = matrix.shape[0] > matrix.shape[1]
    cost = -(matrix.T if transposed else matrix)
    pairs = [(row, column) for row, column in _min_cost_rows(cost)]
    if transposed:
        pairs = [(column, row) for row, column in pairs]
    pairs.sort()
    return float(sum(matrix[r, c] for r, c in pairs)), pairs


def _min_cost_rows(cost: np.ndarray) -> List[Tuple[int, int]]:
    """Every row of ``cost`` ``(n, m)``, ``n <= m``, assigned its own column at least total
    cost: shortest augmenting paths with row/column potentials, ``O(n² m)``."""
    n, m = cost.shape
    row_potential = np.zeros(n + 1)
    column_potential = np.zeros(m + 1)
    row_of_column = np.zeros(m + 1, dtype=np.int64)  # 1-based row matched to each column; 0 = free
    previous = np.zeros(m + 1, dtype=np.int64)  # the column before each on the augmenting path
    for row in range(1, n + 1):
        row_of_column[0] = row
        column = 0
        slack = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[column] = True
            current = row_of_column[column]
            reduced = cost[current - 1] - row_potential[current] - column_potential[1:]
            free = ~used[1:]
            better = free & (reduced < slack[1:])
            slack[1:][better] = reduced[better]
            previous[1:][better] = column
            candidates = np.where(free, slack[1:], np.inf)
            next_column = int(np.argmin(candidates)) + 1
            delta = candidates[next_column - 1]
            row_potential[row_of_column[used]] += delta
            column_potential[used] -= delta
            slack[~used] -= delta
            column = next_column
            if row_of_column[column] == 0:
                break
        while column:
            before = previous[column]
            row_of_column[column] = row_of_column[before]
            column = before
    return [(int(row_of_column[c]) - 1, c - 1) for c in range(1, m + 1) if row_of_column[c]]
