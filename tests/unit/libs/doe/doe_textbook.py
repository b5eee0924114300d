"""Textbook data the DOE tests share (one copy, cited once).

Montgomery, *Design and Analysis of Experiments*, 9th ed., Example 11.2: chemical
process yield, a rotatable central composite design with five centre runs;
x1 = (time - 85)/5, x2 = (temperature - 175)/5. Example 11.1: the first-order
design that precedes it, a 2^2 with five centre runs.
"""

from __future__ import annotations

import pandas as pd

from libs.doe import ContinuousFactor, FactorSpace

ALPHA = 1.414
CCD_11_2 = [
    (-1, -1, 76.5),
    (-1, 1, 77.0),
    (1, -1, 78.0),
    (1, 1, 79.5),
    (0, 0, 79.9),
    (0, 0, 80.3),
    (0, 0, 80.0),
    (0, 0, 79.7),
    (0, 0, 79.8),
    (ALPHA, 0, 78.4),
    (-ALPHA, 0, 75.6),
    (0, ALPHA, 78.5),
    (0, -ALPHA, 77.0),
]
SPACE_11_2 = FactorSpace(
    factors=[
        ContinuousFactor(name="time", low=80, high=90),
        ContinuousFactor(name="temp", low=170, high=180),
    ]
)

__all__ = ["ALPHA", "CCD_11_2", "SPACE_11_2"]

# Montgomery Ex. 11.1: 2^2 with 5 centre points, time 35 +- 5 min, temperature 155 +- 5 F.
CODED_11_1 = pd.DataFrame(
    [[-1, -1], [1, -1], [-1, 1], [1, 1], *[[0, 0]] * 5], columns=["time", "temp"], dtype=float
)
Y_11_1 = [39.3, 40.9, 40.0, 41.5, 40.3, 40.5, 40.7, 40.2, 40.6]
SPACE_11_1 = FactorSpace(
    factors=[
        ContinuousFactor(name="time", low=30, high=40),
        ContinuousFactor(name="temp", low=150, high=160),
    ]
)
