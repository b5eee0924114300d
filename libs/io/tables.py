"""Tables (CSV, Parquet) and JSON documents at a URI.

Writes serialize to bytes in memory first and hand them to `write_bytes` in one
piece: a serialization error then leaves nothing behind, and the returned
digest is the digest of exactly what was stored.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePosixPath
from typing import Any

import pandas as pd
import pyarrow

from libs.errors import InputError
from libs.io.errors import CorruptFileError, UnsupportedFormatError
from libs.io.storage import read_bytes, write_bytes

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_REASON_LIMIT = 200


def table_format(uri: str) -> str:
    """Pick the table format from the URI's extension (case-insensitive)."""
    suffix = PurePosixPath(uri.split("?", 1)[0]).suffix.lower()
    if suffix not in _FORMATS:
        shown = suffix or "no extension"
        supported = ", ".join(_FORMATS)
        raise UnsupportedFormatError(
            f"{uri}: unsupported table format '{shown}'; supported extensions: {supported}"
        )
    return _FORMATS[suffix]


def _reason(exc: BaseException) -> str:
    """The parser's own reason, first line only and bounded, for a one-line error."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def read_table(uri: str, storage_options: dict[str, Any] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet table; refuse an empty one, since no stage can use it."""
    fmt = table_format(uri)
    data = read_bytes(uri, storage_options)
    reader = pd.read_csv if fmt == "csv" else pd.read_parquet
    if fmt == "csv":
        check_csv_header(data, uri)
    try:
        frame = reader(io.BytesIO(data))
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{uri}: table is empty") from exc
    except (ValueError, OSError, pyarrow.ArrowException) as exc:
        kind = "CSV" if fmt == "csv" else "Parquet"
        raise CorruptFileError(f"{uri}: cannot parse {kind}: {_reason(exc)}") from exc
    if frame.shape[0] == 0:
        raise InputError(f"{uri}: table is empty")
    check_unique_columns(list(frame.columns), uri)
    return frame


def check_csv_header(data: bytes, uri: str) -> None:
    """Refuse a CSV header naming a column twice, before pandas renames the copy `x.1`.

    `data` is the file's bytes or at least its first line.
    """
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        header = next(csv.reader([first]), [])
    except csv.Error:
        return  # pandas reports the malformed file with its own reason
    check_unique_columns([name.strip() for name in header], uri)


def check_unique_columns(columns: list[Any], uri: str) -> None:
    """One name a column: a duplicate would be renamed or dropped silently downstream."""
    seen: dict[str, int] = {}
    for position, column in enumerate(columns, start=1):
        name = str(column)
        if name in seen:
            raise InputError(
                f"{uri}: duplicate column name '{name}' (columns {seen[name]} and {position}); "
                "rename or remove one"
            )
        seen[name] = position


def write_table(df: pd.DataFrame, uri: str, storage_options: dict[str, Any] | None = None) -> str:
    """Write a table as CSV or Parquet (by extension) and return the sha256 of its bytes.

    The index is not written: tables here are rows of columns, and a written
    RangeIndex would come back as a spurious column on the next read.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_table expects a pandas DataFrame, got {type(df).__name__}")
    fmt = table_format(uri)
    if fmt == "csv":
        data = df.to_csv(index=False).encode("utf-8")
    else:
        buffer = io.BytesIO()
        try:
            df.to_parquet(buffer, index=False)
        except (ValueError, TypeError, pyarrow.ArrowException) as exc:
            raise InputError(f"{uri}: cannot write as Parquet: {_reason(exc)}") from exc
        data = buffer.getvalue()
    return write_bytes(data, uri, storage_options)


def read_json(uri: str, storage_options: dict[str, Any] | None = None) -> Any:
    """Read a JSON document."""
    data = read_bytes(uri, storage_options)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"{uri}: cannot parse JSON: {_reason(exc)}") from exc


def write_json(obj: Any, uri: str, storage_options: dict[str, Any] | None = None) -> str:
    """Write a JSON document and return the sha256 of its bytes.

    Keys are sorted so that equal objects give equal bytes, hence equal digests
    (caching keys on digests).
    """
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_bytes(text.encode("utf-8"), uri, storage_options)


__all__ = [
    "check_csv_header",
    "check_unique_columns",
    "read_json",
    "read_table",
    "table_format",
    "write_json",
    "write_table",
]
