"""Alias structure of a two-level design, read from its coded matrix alone.

Every product of factor columns (A, AB, ABC, ...) is a candidate effect. Two
candidates whose columns are equal up to sign over the factorial runs cannot
be told apart: they form an alias chain, named by its lowest-order member
(`A = BC = DE`). The chain equal to the constant column is the defining
relation (`I = ABD = ...`); its shortest word is the resolution. Because this
works on the matrix, it is right for any design: a regular fraction, a
fold-over merged with its parent, or a design with failed runs.

Designs whose candidate columns are correlated without being equal (a
Plackett-Burman, an unbalanced design after failures) are non-regular: their
interactions are only partially aliased with the main effects, reported as
correlations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I: it names the identity column
MAX_FULL_ORDER_FACTORS = 12  # up to this many factors every order is enumerated
SHOWN_ORDER = 3  # chains list their members up to this order
_TOL = 1e-9


def factor_letters(names: list[str]) -> dict[str, str]:
    """Factor name -> letter (A, B, ..., skipping I; then A2, B2, ...)."""
    out = {}
    for i, name in enumerate(names):
        letter, rnd = _LETTERS[i % len(_LETTERS)], i // len(_LETTERS)
        out[name] = letter if rnd == 0 else f"{letter}{rnd + 1}"
    return out


def word(subset: tuple[int, ...], letters: list[str]) -> str:
    """The name of a product of factors: (0, 2) -> 'AC'; () -> 'I'."""
    return "".join(letters[i] for i in subset) or "I"


@dataclass(frozen=True)
class AliasChain:
    """Effects that share one column (up to sign); `signs[i]` relates member i to the first."""

    members: tuple[tuple[int, ...], ...]
    signs: tuple[int, ...]

    @property
    def rep(self) -> tuple[int, ...]:
        return self.members[0]

    @property
    def order(self) -> int:
        return len(self.rep)

    def label(self, letters: list[str], max_order: int = SHOWN_ORDER) -> str:
        """'A = BC = -DE', members up to `max_order` (always the first one)."""
        parts = []
        for i, (m, s) in enumerate(zip(self.members, self.signs, strict=True)):
            if i == 0 or len(m) <= max_order:
                parts.append(("-" if s < 0 else "") + word(m, letters))
        return " = ".join(parts)


@dataclass(frozen=True)
class AliasStructure:
    """The chains of a two-level design, the defining relation and the resolution."""

    letters: list[str]
    chains: tuple[AliasChain, ...]  # effect chains, lowest order first (identity excluded)
    defining: tuple[tuple[tuple[int, ...], int], ...]  # words equal to +-I
    max_order: int  # the highest order enumerated
    regular: bool
    partial: pd.DataFrame  # non-regular: main effect, interaction, correlation

    @property
    def resolution(self) -> int | None:
        """Length of the shortest defining word; None for a full factorial (no words)."""
        return min((len(w) for w, _ in self.defining), default=None)

    def defining_relation(self) -> str:
        if not self.defining:
            return ""
        words = [("-" if s < 0 else "") + word(w, self.letters) for w, s in self.defining]
        return "I = " + " = ".join(words)


def product(x: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """The column of a product of factors (all ones for the empty product)."""
    return np.prod(x[:, list(subset)], axis=1) if subset else np.ones(len(x))


def _key(col: np.ndarray) -> tuple[bytes, int]:
    """A sign-free key of a +-1 column, and the sign that makes its first entry +1."""
    sign = 1 if col[0] > 0 else -1
    return (np.rint(col * sign).astype(np.int8).tobytes(), sign)


def _subsets(k: int, max_order: int) -> list[tuple[int, ...]]:
    return [s for r in range(1, max_order + 1) for s in itertools.combinations(range(k), r)]


def alias_structure(factorial: np.ndarray, names: list[str]) -> AliasStructure:
    """Chains, defining relation and partial aliasing of the +-1 runs `factorial` (n x k)."""
    n, k = factorial.shape
    letters = [factor_letters(names)[nm] for nm in names]
    max_order = k if k <= MAX_FULL_ORDER_FACTORS else 3
    identity_key, _ = _key(np.ones(n))
    groups: dict[bytes, list[tuple[tuple[int, ...], int]]] = {}
    columns: dict[bytes, np.ndarray] = {}
    for subset in _subsets(k, max_order):
        col = product(factorial, subset)
        key, sign = _key(col)
        groups.setdefault(key, []).append((subset, sign))
        columns.setdefault(key, col * sign)
    defining = tuple((s, sg) for s, sg in groups.pop(identity_key, []))
    chains = []
    for members in groups.values():
        ordered = sorted(members, key=lambda m: (len(m[0]), m[0]))
        first_sign = ordered[0][1]
        chains.append(
            AliasChain(tuple(m for m, _ in ordered), tuple(s * first_sign for _, s in ordered))
        )
    chains.sort(key=lambda c: (c.order, c.rep))
    regular, partial = _partial_aliasing(factorial, chains, letters)
    return AliasStructure(letters, tuple(chains), defining, max_order, regular, partial)


def _partial_aliasing(
    x: np.ndarray, chains: list[AliasChain], letters: list[str]
) -> tuple[bool, pd.DataFrame]:
    """Correlations (neither 0 nor +-1) between main-effect and two-factor chains."""
    mains = [c for c in chains if c.order == 1]
    twos = [c for c in chains if c.order == 2]
    rows = []
    regular = True
    low = mains + twos
    for a, b in itertools.combinations(low, 2):
        ca, cb = product(x, a.rep), product(x, b.rep)
        ca, cb = ca - ca.mean(), cb - cb.mean()
        denom = float(np.sqrt((ca @ ca) * (cb @ cb)))
        r = float(ca @ cb) / denom if denom > 0 else 0.0
        if _TOL < abs(r) < 1 - _TOL:
            regular = False
            if a.order == 1 and b.order == 2 and a.rep[0] not in b.rep:
                rows.append(
                    {
                        "main effect": word(a.rep, letters),
                        "interaction": word(b.rep, letters),
                        "correlation": round(r, 4),
                    }
                )
    return regular, pd.DataFrame(rows, columns=["main effect", "interaction", "correlation"])


__all__ = [
    "AliasChain",
    "AliasStructure",
    "alias_structure",
    "factor_letters",
    "product",
    "word",
]
