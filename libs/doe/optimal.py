"""Optimal designs over a constrained candidate set (D or I criterion, pyDOE's exchange).

The candidate set is a grid over the factor space (every level of a
categorical factor, `levels` values of a numeric one) less the points that a
constraint rules out: a linear inequality in natural units
("max_depth + n_estimators / 100 <= 10") or a disallowed combination of
settings ({solver: lbfgs, penalty: l1}, or {max_depth: ">8", n_estimators:
">400"}). pyDOE's exchange algorithm then picks `runs` of them for the model's
columns (built here, so that a categorical factor of any number of levels
enters with its effect-coded columns and `interactions` means what it says).
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pydoe

from libs.doe.evaluate import model_terms
from libs.doe.space import CategoricalFactor, FactorSpace, IntegerFactor
from libs.errors import InputError

MAX_CANDIDATES = 4000
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_AST_COMPARE = {ast.LtE: "<=", ast.GtE: ">=", ast.Lt: "<", ast.Gt: ">"}


def _resolve(space: FactorSpace, name: str, where: str) -> str:
    if name in space.names:
        return name
    matches = [n for n in space.names if n.rsplit(".", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"{where}: {name!r} is not a factor "
        f"({', '.join(n.rsplit('.', 1)[-1] for n in space.names)})"
    )


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _linear(node: ast.expr, space: FactorSpace, where: str) -> Callable[[Mapping[str, Any]], float]:
    """A function of a point for an arithmetic expression of factors and numbers."""
    name = _dotted(node)
    if name is not None:
        factor = space.factor(_resolve(space, name, where))
        if isinstance(factor, CategoricalFactor):
            raise InputError(f"{where}: factor {name!r} is categorical and has no value to add")
        key = factor.name
        return lambda p: float(p[key])
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        value = float(node.value)
        return lambda p: value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _linear(node.operand, space, where)
        return lambda p: -inner(p)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        left, right = _linear(node.left, space, where), _linear(node.right, space, where)
        if isinstance(node.op, ast.Mult | ast.Div) and not (
            isinstance(node.right, ast.Constant) or isinstance(node.left, ast.Constant)
        ):
            raise InputError(f"{where}: only linear constraints (a factor times a number)")
        ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
        if isinstance(node.op, ast.Div):
            return lambda p: left(p) / right(p)
        op = ops[type(node.op)]
        return lambda p: op(left(p), right(p))
    raise InputError(f"{where}: cannot read {ast.unparse(node)!r} (factors, numbers, + - * /)")


def _inequality(text: str, space: FactorSpace, where: str) -> Callable[[Mapping[str, Any]], bool]:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise InputError(
            f"{where}: {text!r} is not an inequality such as 'a + b/100 <= 10'"
        ) from exc
    if not (
        isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in _AST_COMPARE
    ):
        raise InputError(f"{where}: {text!r} is not one inequality (<=, >=, <, >)")
    left = _linear(tree.left, space, where)
    right = _linear(tree.comparators[0], space, where)
    compare = _COMPARE[_AST_COMPARE[type(tree.ops[0])]]
    return lambda p: compare(left(p), right(p))


def _matches(value: Any, rule: Any) -> bool:
    """Whether a setting matches one entry of a disallowed combination."""
    if isinstance(rule, list):
        return any(_matches(value, r) for r in rule)
    if isinstance(rule, str) and rule[:1] in "<>" and not isinstance(value, str):
        op = rule[:2] if rule[:2] in _COMPARE else rule[:1]
        return _COMPARE[op](float(value), float(rule[len(op) :]))
    return bool(type(value) is type(rule) and value == rule) or (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and isinstance(rule, int | float)
        and not isinstance(rule, bool)
        and value == rule
    )


def _not_combination(combo: dict[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    return lambda p: not all(_matches(p[n], r) for n, r in combo.items())


def feasibility(
    space: FactorSpace, constraints: Sequence[str | Mapping[str, Any]]
) -> Callable[[Mapping[str, Any]], bool]:
    """A test that a real point breaks none of the constraints (checked once, here)."""
    rules: list[Callable[[Mapping[str, Any]], bool]] = []
    for i, c in enumerate(constraints):
        where = f"design.constraints[{i}]"
        if isinstance(c, str):
            rules.append(_inequality(c, space, where))
        else:
            if not c:
                raise InputError(f"{where}: an empty combination disallows everything")
            combo = {_resolve(space, k, where): v for k, v in c.items()}
            for name, rule in combo.items():
                factor = space.factor(name)
                if isinstance(rule, str) and rule[:1] in "<>":
                    if isinstance(factor, CategoricalFactor):
                        raise InputError(f"{where}: {name!r} is categorical: name its levels")
                    try:
                        float(rule.lstrip("<>="))
                    except ValueError as exc:
                        raise InputError(f"{where}: {rule!r} is not a bound such as '>8'") from exc
            rules.append(_not_combination(combo))
    return lambda p: all(rule(p) for rule in rules)


def _grid_codes(space: FactorSpace, levels: int) -> list[list[float]]:
    out = []
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            k = len(f.levels)
            out.append([-1 + 2 * i / (k - 1) for i in range(k)])
        elif isinstance(f, IntegerFactor):
            values = sorted({round(v) for v in np.linspace(f.low, f.high, min(levels, f.n_levels))})
            out.append([f.encode(v) for v in values])
        else:
            out.append(list(np.linspace(-1, 1, levels)))
    return out


def candidate_set(
    space: FactorSpace,
    constraints: Sequence[str | Mapping[str, Any]] = (),
    levels: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Coded candidate points that satisfy every constraint (a seeded sample of a big grid)."""
    allowed = feasibility(space, constraints)
    grid = _grid_codes(space, levels)
    size = math.prod(len(v) for v in grid)
    if size <= MAX_CANDIDATES:
        rows = np.array(list(itertools.product(*grid)), dtype=float)
    else:
        rng = np.random.default_rng(seed)
        rows = np.column_stack([rng.choice(v, MAX_CANDIDATES) for v in grid])
        rows = np.unique(rows, axis=0)
    frame = pd.DataFrame(rows, columns=space.names)
    keep = [allowed(space.decode(row)) for row in frame.to_dict("records")]
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        raise InputError("design.constraints: no setting of the factors satisfies every constraint")
    return frame


def pure_error_runs(runs: int, parameters: int, asked: int | None = None) -> int:
    """How many of `runs` replicate a setting (pure error): `asked`, or by default half
    the runs beyond the model's parameters (at most 4), keeping one lack-of-fit df."""
    spare = runs - parameters
    if asked is None:
        return min(spare // 2, 4) if spare >= 2 else 0
    if asked and spare - asked < 1:
        raise InputError(
            f"design.pure_error: {asked} replicate runs leave {runs - asked} distinct settings "
            f"for the model's {parameters} parameters; give pure_error <= {max(spare - 1, 0)} "
            "or more runs"
        )
    return asked


def _replicate_rows(f: np.ndarray, chosen: list[int], centre: int | None, n: int) -> list[int]:
    """`n` runs for pure error: centre runs where the centre is a feasible candidate and
    every factor has one (one centre run alone is no replicate: then a repeat), else
    repeats of the design's highest-leverage settings."""
    if centre is not None and (centre in chosen or n > 1):
        return [centre] * n
    x = np.column_stack([np.ones(len(f)), f])
    design = list(chosen)
    for _ in range(n):
        rows = x[design]
        inv = np.linalg.pinv(rows.T @ rows)
        leverage = np.einsum("ij,jk,ik->i", rows, inv, rows)
        design.append(design[int(np.argmax(leverage))])
    return design[len(chosen) :]


def _centre_index(space: FactorSpace, candidates: pd.DataFrame) -> int | None:
    if any(isinstance(f, CategoricalFactor) for f in space.factors):
        return None
    worst = candidates.abs().max(axis=1)
    i = int(worst.to_numpy().argmin())
    return i if worst.iloc[i] < 0.34 else None


def pure_error_note(coded: pd.DataFrame, space: FactorSpace, model: str) -> str:
    """What an optimal design's runs give for pure error and lack of fit, in words."""
    inside, _ = model_terms(coded, space, model)
    p = 1 + sum(len(cols) for cols in inside.values())
    distinct = len(np.unique(coded.round(9).to_numpy(), axis=0))
    n = len(coded)
    if n > distinct:
        return (
            f"pure error: {n - distinct} df from replicated runs, lack of fit {distinct - p} df "
            f"({n} runs, {distinct} distinct settings, {p} parameters)"
        )
    return (
        f"no pure error: {n} runs for the {model} model's {p} parameters leave no replicate "
        f"run (a budget of {p + 2} or more adds replicates, so lack of fit can be tested)"
    )


def optimal_matrix(
    space: FactorSpace,
    runs: int,
    model: str,
    criterion: str = "D",
    constraints: Sequence[str | Mapping[str, Any]] = (),
    levels: int = 3,
    seed: int = 0,
    pure_error: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """`runs` coded points chosen from the candidates for `model` by the `criterion`.

    Of them, `pure_error_runs` are centre runs (or repeats of the highest-leverage
    settings, with a categorical factor or an infeasible centre) so that the analysis
    has pure error; the others are distinct settings chosen by pyDOE's exchange.
    """
    candidates = candidate_set(space, constraints, levels, seed)
    inside, _ = model_terms(candidates, space, model)
    columns = [c for cols in inside.values() for c in cols]
    p = 1 + len(columns)
    if runs < p:
        raise InputError(
            f"design.runs: {runs} runs cannot estimate the {model} model's {p} parameters "
            f"over {', '.join(n.rsplit('.', 1)[-1] for n in space.names)}; give runs >= {p}"
        )
    replicas = pure_error_runs(runs, p, pure_error)
    distinct = runs - replicas
    f = np.column_stack(columns)
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(f)), f])) < p:
        raise InputError(
            f"design.constraints: the feasible settings cannot estimate the {model} model "
            "(too few distinct settings left); relax a constraint or choose a smaller model"
        )
    # pyDOE's exchange starts from the first candidates: on a grid in standard order those
    # are singular for D (every start differs in one factor), so it gets them in a seeded
    # order, and a slightly regularised information matrix if the start is still singular.
    order = np.random.default_rng(seed).permutation(len(f))
    shuffled = f[order]
    for ridge in (0.0, 1e-3):
        chosen, info = pydoe.optimal_design(
            shuffled, distinct, 1, criterion, method="detmax", alpha=ridge
        )
        x = np.column_stack([np.ones(len(chosen)), chosen])
        if np.linalg.matrix_rank(x) == p:
            break
    else:
        raise InputError(
            f"design: no {runs}-run design from the feasible settings estimates the {model} "
            "model; add runs or relax a constraint"
        )
    index = []
    for row in chosen:
        hits = np.flatnonzero(np.all(np.isclose(shuffled, row), axis=1))
        index.append(int(order[hits[0]]))
    index += _replicate_rows(f, index, _centre_index(space, candidates), replicas)
    return candidates.to_numpy()[index], {
        "candidates": len(candidates),
        "parameters": p,
        "pure_error_runs": replicas,
        "d_efficiency": float(info["D_eff"]),
    }


__all__ = [
    "MAX_CANDIDATES",
    "candidate_set",
    "feasibility",
    "optimal_matrix",
    "pure_error_note",
    "pure_error_runs",
]
