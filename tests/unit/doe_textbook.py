"""Textbook data the DOE tests share (one copy, cited once).

Montgomery, *Design and Analysis of Experiments*, 9th ed., Example 11.2: chemical
process yield, a rotatable central composite design with five centre runs;
x1 = (time - 85)/5, x2 = (temperature - 175)/5.
"""

from __future__ import annotations

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
