"""The defining relation of a regular two-level fraction, read off its matrix.

A regular 2^(k-p) fraction is a full factorial in k base factors whose other
p columns are products of base columns (Montgomery, *Design and Analysis of
Experiments*, 9th ed., section 8.2). Reading the structure from the matrix
rather than from the generator string that built it means one routine serves
every two-level design: a generator given by the user, pyDOE's
`fracfact_by_res` (which returns no generator), a full factorial (no words)
and a Plackett-Burman design (non-regular when its run count is not a power
of two, so it has no defining relation at all).

Columns are handled as bit vectors over the runs (1 where the level is -1):
the product of columns is the XOR of their vectors, so finding generators is
Gaussian elimination over GF(2).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from libs.doe.aliasing import factor_letters


@dataclass(frozen=True)
class Word:
    """A word of the defining relation: `sign` times the product of `letters`."""

    letters: tuple[str, ...]
    sign: int = 1

    def __str__(self) -> str:
        return ("-" if self.sign < 0 else "") + "".join(self.letters)


@dataclass(frozen=True)
class FractionStructure:
    """Generators, defining relation and resolution of a two-level design.

    `regular` is False when the two-level columns are not products of one
    another (a 12-run Plackett-Burman): such a design aliases partially, and
    its alias structure is a correlation matrix, not a defining relation.
    `resolution` is None for a full factorial (no words) and for a non-regular
    design.
    """

    regular: bool
    generators: tuple[str, ...]
    words: tuple[Word, ...]
    resolution: int | None

    @property
    def defining_relation(self) -> str:
        """`I = ABCD = ...`, or `I` for a full factorial."""
        return " = ".join(["I", *(str(w) for w in self.words)])


def _bits(column: np.ndarray) -> int:
    value = 0
    for i, x in enumerate(column):
        if x < 0:
            value |= 1 << i
    return value


def _top(vector: int) -> int:
    return 1 << (vector.bit_length() - 1)


def _reduce(vector: int, basis: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Reduce `vector` by the echelon basis; returns (residue, mask of base factors used)."""
    used = 0
    for pivot, vec, mask in basis:
        if vector & pivot:
            vector ^= vec
            used ^= mask
    return vector, used


def fraction_structure(matrix: np.ndarray) -> FractionStructure | None:
    """The structure of a +-1 matrix (runs x factors), or None if it is not two-level.

    Duplicate rows (replicates) and rows with a 0 (centre points) are ignored:
    they do not change which effects the factorial runs can separate.
    """
    rows = np.asarray(matrix, dtype=float)
    if rows.ndim != 2 or rows.shape[1] == 0:
        return None
    cube = rows[np.all(np.isclose(np.abs(rows), 1.0), axis=1)]
    if len(cube) < 2:
        return None
    cube = np.unique(np.sign(cube), axis=0)
    n = cube.shape[1]
    letters = list(factor_letters([str(i) for i in range(n)]).values())
    ones = (1 << len(cube)) - 1
    # The all-ones vector stands for a minus sign: a word whose product is -1.
    basis: list[tuple[int, int, int]] = []
    minus_mask = 1 << n
    basis.append((_top(ones), ones, minus_mask))
    base: list[int] = []
    generated: list[tuple[int, int]] = []
    for j in range(n):
        residue, used = _reduce(_bits(cube[:, j]), basis)
        if residue:
            basis.append((_top(residue), residue, used ^ (1 << j)))
            basis.sort(key=lambda b: -b[0])  # highest pivot first keeps the reduction exact
            base.append(j)
        else:
            generated.append((j, used ^ (1 << j)))
    if len(cube) != 1 << len(base):
        return FractionStructure(False, (), (), None)
    generator_words = []
    generators = []
    for j, mask in generated:
        sign = -1 if mask & minus_mask else 1
        members = [i for i in range(n) if mask & (1 << i)]
        others = "".join(letters[i] for i in members if i != j)
        generators.append(f"{letters[j]} = {'-' if sign < 0 else ''}{others}")
        generator_words.append(mask)
    words = []
    for r in range(1, len(generator_words) + 1):
        for combo in combinations(generator_words, r):
            mask = 0
            for m in combo:
                mask ^= m
            word = tuple(letters[i] for i in range(n) if mask & (1 << i))
            words.append(Word(word, -1 if mask & minus_mask else 1))
    words.sort(key=lambda w: (len(w.letters), w.letters))
    resolution = min((len(w.letters) for w in words), default=None)
    return FractionStructure(True, tuple(generators), tuple(words), resolution)


def roman(resolution: int | None) -> str:
    """3 -> 'III'; None -> 'full' (no aliasing among factorial effects)."""
    if resolution is None:
        return "full"
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in numerals:
        while resolution >= value:
            out += numeral
            resolution -= value
    return out


__all__ = ["FractionStructure", "Word", "fraction_structure", "roman"]
