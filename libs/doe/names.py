"""Factor names and values as a person reads them: short names, no float noise.

A factor is keyed by its dotted config path (`model.params.learning_rate`);
what a person reads (notes, the terminal summary, the report, MLflow keys)
uses its *short name*: the last part of the path, with parent parts added
only where two factors of the study would otherwise share it
(`params.alpha` beside `features.alpha`). Values carry the digits the
factor's range warrants: integers as integers, a linear factor to about a
hundredth of its range, a log-scale factor to three significant figures.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from libs.doe.space import (
    CategoricalFactor,
    ContinuousFactor,
    Factor,
    FactorSpace,
    IntegerFactor,
)
from libs.errors import InputError

SIGNIFICANT = 4  # digits of a value whose factor is not known
LOG_SIGNIFICANT = 3  # digits of a log-scale factor's value
TIMES = " x "  # an interaction in text: "max_depth x subsample"

# A number with more digits than anyone means (float noise: 0.20000000000000004).
_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d{6,}(?:e[-+]?\d+)?(?![\w.])")


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Full dotted key -> the shortest unique tail of it (`model.params.C` -> `C`).

    Two keys with the same last part both get their parent part, and so on
    until they differ (`model.params.alpha`, `features.alpha` -> `params.alpha`,
    `features.alpha`).
    """
    parts = {n: n.split(".") for n in names}
    depth = dict.fromkeys(names, 1)
    while True:
        short = {n: ".".join(parts[n][-depth[n] :]) for n in names}
        seen: dict[str, int] = {}
        for s in short.values():
            seen[s] = seen.get(s, 0) + 1
        clashes = [n for n in names if seen[short[n]] > 1 and depth[n] < len(parts[n])]
        if not clashes:
            return short
        for n in clashes:
            depth[n] += 1


def factor_named(typed: str, names: Sequence[str], letters: Mapping[str, str]) -> str | None:
    """The factor a person typed: its config key, its short name or its design letter
    (any case); None when it is none of them."""
    short = short_names(names)
    for full in names:
        letter = letters.get(full, "")
        if typed in (full, short[full]) or (letter and typed.upper() == letter.upper()):
            return full
    return None


def factor_choices(names: Sequence[str], letters: Mapping[str, str]) -> str:
    """The factors as a person may type them: `learning_rate (A), max_depth (B)`."""
    short = short_names(names)
    return ", ".join(f"{short[n]} ({letters[n]})" if n in letters else short[n] for n in names)


def plain_number(value: Any) -> str:
    """A number without float noise: whole numbers as integers, others to 4 significant
    digits (`0.20000000000000004` -> `0.2`); anything else as `str`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            import numpy as np

            if isinstance(value, np.integer | np.floating):
                return plain_number(value.item())
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.{SIGNIFICANT}g}"


def decimals(factor: ContinuousFactor) -> int:
    """Decimal places for a linear factor: about a hundredth of its range
    (0.02-0.2 -> 3, 0.5-1 -> 3, 1-10 -> 2, 50-500 -> 0)."""
    span = factor.high - factor.low
    return max(0, 2 - math.floor(math.log10(span)))


def round_value(factor: Any, value: Any) -> Any:
    """`value` rounded to what `factor`'s range warrants (a level is returned as is)."""
    if isinstance(factor, CategoricalFactor) or isinstance(value, bool):
        return value
    if not isinstance(value, int | float) or not math.isfinite(float(value)):
        return value
    if isinstance(factor, IntegerFactor):
        return round(float(value))
    if isinstance(factor, ContinuousFactor):
        v = float(value)
        if factor.scale == "log":
            return float(f"{v:.{LOG_SIGNIFICANT}g}") if v != 0 else 0.0
        return round(v, decimals(factor))
    return value


def show_value(factor: Any, value: Any) -> str:
    """`value` as text with the digits its factor warrants (`0.1`, `7`, `3.16e-05`)."""
    if factor is None:
        return plain_number(value)
    rounded = round_value(factor, value)
    if isinstance(rounded, float) and isinstance(factor, ContinuousFactor):
        if factor.scale == "log":
            return plain_number(rounded)
        text = f"{rounded:.{decimals(factor)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return plain_number(rounded)


@dataclass(frozen=True)
class Namer:
    """Short names and rounded values for one study's factors (see `Namer.of`)."""

    short: dict[str, str]
    factors: dict[str, Any] = field(default_factory=dict)  # full key -> factor

    @classmethod
    def of(
        cls, names: Sequence[str] | FactorSpace | None, space: FactorSpace | None = None
    ) -> Namer:
        """From a factor space, or from factor keys (with the space for their ranges)."""
        if isinstance(names, FactorSpace):
            space, names = names, names.names
        keys = list(names or (space.names if space is not None else []))
        factors = {f.name: f for f in space.factors if f.name in keys} if space is not None else {}
        return cls(short_names(keys), factors)

    def name(self, key: str) -> str:
        """A factor's short name (a key that is no factor comes back unchanged)."""
        return self.short.get(key, key)

    def key_of(self, name: str) -> str:
        """The full key of a short name (or of a full key): the inverse of `name`."""
        for full, short in self.short.items():
            if name in (short, full):
                return full
        return name

    def term(self, label: str) -> str:
        """A model term in names: `a:b` -> `a x b`, `a^2` -> `a^2` (short names)."""
        parts = []
        for part in str(label).split(":"):
            square = part.endswith("^2")
            base = part[:-2] if square else part
            parts.append(self.name(base) + ("^2" if square else ""))
        return TIMES.join(parts)

    def metric_key(self, label: str) -> str:
        """A term as a tracker key (`a_x_b`, `a_squared`): short names, no '^'."""
        return self.term(label).replace(TIMES, "_x_").replace("^2", "_squared")

    def value(self, key: str, value: Any) -> str:
        """A value of factor `key` as text, rounded to what its range warrants."""
        return show_value(self.factors.get(self.key_of(key)), value)

    def rounded(self, key: str, value: Any) -> Any:
        """A value of factor `key` rounded to what its range warrants (a number stays one)."""
        factor = self.factors.get(self.key_of(key))
        if factor is None:
            if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
                return float(f"{value:.{SIGNIFICANT}g}")
            return value
        return round_value(factor, value)

    def point(self, point: Mapping[str, Any], sep: str = ", ") -> str:
        """`learning_rate=0.1, max_depth=3`: a setting in short names and rounded values."""
        return sep.join(f"{self.name(k)}={self.value(k, v)}" for k, v in point.items())

    def text(self, text: str) -> str:
        """Free text in names: full keys -> short names, `a:b` -> `a x b`, `name=value`
        rounded to its factor's digits, and any other float noise removed."""
        out = str(text)
        for full in sorted(self.short, key=len, reverse=True):
            if full != self.short[full]:
                out = re.sub(rf"(?<![\w]){re.escape(full)}(?![\w])", self.short[full], out)
        shorts = sorted(set(self.short.values()), key=len, reverse=True)
        if shorts:
            alt = "|".join(re.escape(s) for s in shorts)
            pair = re.compile(rf"(?<![\w])((?:{alt})(?:\^2)?):(?=(?:{alt})(?![\w]))")
            while pair.search(out):
                out = pair.sub(rf"\1{TIMES}", out)
            by_short = {s: k for k, s in self.short.items()}

            def rounded(m: re.Match[str]) -> str:
                return f"{m.group(1)}={self.value(by_short[m.group(1)], float(m.group(2)))}"

            out = re.sub(
                rf"(?<![\w.])({alt})=(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])", rounded, out
            )
        return _LONG_NUMBER.sub(lambda m: plain_number(float(m.group(0))), out)


def beyond(coded: Mapping[str, float]) -> float:
    """How far a coded point lies outside the factor ranges (the cube -1..+1), in coded
    units: the length of its excess beyond +-1 (0 inside or on the edge)."""
    excess = [max(0.0, abs(float(v)) - 1.0) for v in coded.values()]
    return math.sqrt(sum(e * e for e in excess))


def region_words(coded: Mapping[str, float], said: Namer | None = None) -> str:
    """ "" inside the factor ranges, else `outside the factor ranges by 1.5 coded units
    (learning_rate at +2.5 coded)`: a proposal there is an extrapolation."""
    distance = beyond(coded)
    if distance <= 1e-9:
        return ""
    name = said.name if said is not None else (lambda k: k)
    which = ", ".join(
        f"{name(k)} at {float(v):+.2f} coded" for k, v in coded.items() if abs(float(v)) > 1 + 1e-9
    )
    return f"outside the factor ranges by {distance:.2g} coded units ({which})"


FACTOR_PARAM = "factor."  # a sweep's parent run: one MLflow param a factor


def factor_params(factors: Sequence[Any]) -> dict[str, str]:
    """A sweep's factors as MLflow params: `factor.<short name>` -> the factor's JSON, whose
    `name` keeps the full config key (the one place a reader finds it)."""
    said = Namer.of([f.name for f in factors])
    return {f"{FACTOR_PARAM}{said.name(f.name)}": f.model_dump_json() for f in factors}


def logged_factors(params: Mapping[str, str]) -> tuple[list[str], FactorSpace | None]:
    """The factors a sweep's parent run logged (`factor_params`), as full config keys sorted,
    and their space (None where a spec does not parse). A run logged before the short
    names keyed each factor by its full key, its JSON without `name`: read the same."""
    specs: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        if not key.startswith(FACTOR_PARAM):
            continue
        try:
            spec = json.loads(value)
        except ValueError:
            spec = {}
        spec = spec if isinstance(spec, dict) else {}
        full = str(spec.get("name") or key.removeprefix(FACTOR_PARAM))
        specs[full] = {**spec, "name": full}
    names = sorted(specs)
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(Factor)
        space = FactorSpace(factors=[adapter.validate_python(specs[n]) for n in names])
    except (ValidationError, InputError, ValueError):
        space = None
    return names, space


def typed(text: str) -> Any:
    """A logged param's value as the number it was (`"70"` -> 70), else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def plain_text(text: str, names: Sequence[str] = (), space: FactorSpace | None = None) -> str:
    """`Namer.of(names, space).text(text)`: one line in names, without float noise."""
    return Namer.of(list(names), space).text(text)


__all__ = [
    "FACTOR_PARAM",
    "Namer",
    "beyond",
    "decimals",
    "factor_params",
    "logged_factors",
    "plain_number",
    "plain_text",
    "region_words",
    "round_value",
    "short_names",
    "show_value",
    "typed",
]
