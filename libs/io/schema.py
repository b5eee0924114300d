"""Schema check of a table right where it enters, before any training (pandera).

The schema is built from the column roles a run declares, so a wrong column
name or a text column declared numeric fails in one line naming the file and
the column, instead of deep inside a scikit-learn fit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pandas as pd

try:  # pandera >= 0.24 moved the pandas API here; the top-level alias is deprecated.
    import pandera.pandas as pa
except ImportError:  # pragma: no cover - older pandera
    import pandera as pa  # type: ignore[no-redef]

from libs.io.errors import SchemaCheckError

NOT_ALL_NULL = "not entirely null"
IS_NUMERIC = "is numeric"
IS_DATETIME = "is datetime or parseable as datetime"
_SHOWN = 3


def _not_all_null(series: pd.Series) -> bool:
    return bool(series.notna().any())


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series)


def _is_datetime(series: pd.Series) -> bool:
    """Datetime dtype, or text whose every non-null value parses as a date.

    Numbers are refused: pandas would read them as nanoseconds since 1970,
    which is never what a numeric column meant.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    values = series.dropna()
    if not all(isinstance(value, str) for value in values):
        return False
    try:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().all())


def _build_schema(
    columns: Sequence[Hashable],
    numeric: Sequence[str],
    datetime: Sequence[str],
) -> pa.DataFrameSchema:
    """One pandera column per present or declared column, with its role's checks."""
    numeric_set, datetime_set = set(numeric), set(datetime)
    spec = {}
    for name in columns:
        checks = [pa.Check(_not_all_null, name=NOT_ALL_NULL)]
        if name in numeric_set:
            checks.append(pa.Check(_is_numeric, name=IS_NUMERIC))
        if name in datetime_set:
            checks.append(pa.Check(_is_datetime, name=IS_DATETIME))
        spec[name] = pa.Column(nullable=True, required=True, checks=checks)
    return pa.DataFrameSchema(spec, coerce=False, strict=False)


def _describe(error: pa.errors.SchemaError, df: pd.DataFrame, roles: dict[str, str]) -> str:
    """One failure as 'column 'x' failed check 'y' (detail)'."""
    if error.reason_code == pa.errors.SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
        missing = str(error.failure_cases)
        role = roles.get(missing, "declared")
        return f"column '{missing}' failed check 'exists' ({role} column not in the table)"
    column = getattr(error.schema, "name", None)
    check = getattr(error.check, "name", None) or str(error.check)
    detail = ""
    if column in df.columns:
        detail = f" (found dtype {df[column].dtype})"
        if check == NOT_ALL_NULL:
            detail = " (every value is null)"
    return f"column '{column}' failed check '{check}'{detail}"


def check_table(
    df: pd.DataFrame,
    *,
    target: str | None,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    datetime: Sequence[str] = (),
    source: str = "data",
) -> None:
    """Check that declared columns exist, none is all null, and typed columns have their type.

    Every column of the frame is checked for being entirely null (such a
    column carries no information and breaks imputers), not only declared ones.
    Raises `SchemaCheckError` naming `source`, the column and the failed check.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"check_table expects a pandas DataFrame, got {type(df).__name__}")
    if df.shape[0] == 0:
        raise SchemaCheckError(f"{source}: table is empty")
    # Later roles win, so a target also listed as numeric is reported as the target.
    roles: dict[str, str] = {}
    for role, names in (
        ("datetime", datetime),
        ("categorical", categorical),
        ("numeric", numeric),
        ("target", [target] if target is not None else []),
    ):
        roles.update({name: role for name in names})
    declared = [*([target] if target is not None else []), *numeric, *categorical, *datetime]
    columns = list(dict.fromkeys([*df.columns, *declared]))
    schema = _build_schema(columns, numeric, datetime)
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = list(dict.fromkeys(_describe(err, df, roles) for err in exc.schema_errors))
        shown = "; ".join(problems[:_SHOWN])
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise SchemaCheckError(f"{source}: {shown}{more}") from exc


__all__ = ["SchemaCheckError", "check_table"]
