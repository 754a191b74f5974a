"""The spread rule: how many cameras each engine of a cluster should hold.

Shares are in proportion to the capacity each engine declares (`cluster.capacity`), never
above it; what rounding leaves goes one camera each to the largest remainders, ties to the
smaller engine id. With equal capacities this is a spread by count (6 cameras on 3 engines:
2 each). Every engine computes the same answer from the same rows, so no engine assigns
cameras to another: each one takes or gives up its own until it holds its share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def shares(cameras: int, capacities: Mapping[str, int]) -> dict[str, int]:
    """{engine id: cameras it should hold} for `cameras` cameras over these engines."""
    if not capacities:
        return {}
    total = sum(capacities.values())
    if cameras >= total:  # not enough room: every engine is full, the rest stay unheld
        return dict(capacities)
    exact = {engine: cameras * cap / total for engine, cap in capacities.items()}
    out = {engine: math.floor(value) for engine, value in exact.items()}
    left = cameras - sum(out.values())
    by_remainder = sorted(capacities, key=lambda e: (-(exact[e] - out[e]), e))
    for engine in by_remainder[:left]:
        out[engine] += 1  # exact < capacity here, so one more stays within it
    return out
