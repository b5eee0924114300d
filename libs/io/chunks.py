"""Tables too large to hold at once: read them in chunks, write them chunk by chunk.

Parquet is read a record batch at a time (`ParquetFile.iter_batches`), CSV with
`pandas.read_csv(chunksize=...)`, both through fsspec so local paths and s3://
work alike. `ChunkWriter` appends chunks to a Parquet or CSV file under a
temporary name and renames it into place only when every chunk is written, so
a failed run leaves no partial output. Peak memory is then one chunk, not the
table.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

import pandas as pd
import pyarrow
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from libs.errors import InputError
from libs.io.errors import CorruptFileError
from libs.io.storage import _fsync_dir, _not_found_as_input_error, _resolve, temp_name
from libs.io.tables import _reason, check_csv_header, check_unique_columns, table_format

DEFAULT_CHUNK_ROWS = 50_000


def _check_rows(chunk_rows: int) -> None:
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        raise InputError(f"chunk_rows: must be a positive integer, got {chunk_rows!r}")


def table_rows(
    uri: str, storage_options: dict[str, Any] | None = None, *, count_csv: bool = False
) -> int | None:
    """The row count from Parquet metadata (no data read).

    A CSV has none: None, unless `count_csv`, which scans it once (one column,
    as text, so quoted newlines count right); None if that scan fails.
    """
    if table_format(uri) != "parquet":
        return _count_csv_rows(uri, storage_options) if count_csv else None
    fs, path = _resolve(uri, storage_options)
    with _not_found_as_input_error(uri), fs.open(path, "rb") as handle:
        try:
            return int(pq.ParquetFile(handle).metadata.num_rows)
        except (OSError, pyarrow.ArrowException) as exc:
            raise CorruptFileError(f"{uri}: cannot parse Parquet: {_reason(exc)}") from exc


def _count_csv_rows(uri: str, storage_options: dict[str, Any] | None) -> int | None:
    import pyarrow.csv as pacsv

    fs, path = _resolve(uri, storage_options)
    try:
        with fs.open(path, "rb") as handle:
            first = pd.read_csv(handle, nrows=0).columns
            if len(first) == 0:
                return None
            handle.seek(0)
            name = str(first[0])
            reader = pacsv.open_csv(
                handle,
                convert_options=pacsv.ConvertOptions(
                    include_columns=[name], column_types={name: pyarrow.string()}
                ),
            )
            return sum(batch.num_rows for batch in reader)
    except (OSError, ValueError, pyarrow.ArrowException):
        return None  # the scoring pass reports what is wrong with the file


def iter_table(
    uri: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    storage_options: dict[str, Any] | None = None,
    *,
    dtype: Mapping[str, Any] | None = None,
) -> Generator[pd.DataFrame, None, None]:
    """Yield the table at `uri` as DataFrames of at most `chunk_rows` rows, in order.

    An empty table raises `InputError` (as `read_table` does), a malformed one
    `CorruptFileError`. `dtype` pins CSV column types, since each CSV chunk is
    typed on its own (a text column that is empty in one chunk would read as
    float there); Parquet carries its types.
    """
    _check_rows(chunk_rows)
    fmt = table_format(uri)
    fs, path = _resolve(uri, storage_options)
    reader = _iter_parquet if fmt == "parquet" else _iter_csv
    yielded = False
    with _not_found_as_input_error(uri), fs.open(path, "rb") as handle:
        if fmt == "csv":
            check_csv_header(handle.readline(), uri)
            handle.seek(0)
        for chunk in reader(handle, uri, chunk_rows, dtype):
            if not yielded:
                check_unique_columns(list(chunk.columns), uri)
            if len(chunk) == 0:
                continue
            yielded = True
            yield chunk
    if not yielded:
        raise InputError(f"{uri}: table is empty")


def _iter_parquet(
    handle: Any, uri: str, chunk_rows: int, dtype: Mapping[str, Any] | None
) -> Iterator[pd.DataFrame]:
    try:
        parquet = pq.ParquetFile(handle)
        batches = parquet.iter_batches(batch_size=chunk_rows)
        for batch in batches:
            yield batch.to_pandas()
    except (OSError, pyarrow.ArrowException) as exc:
        raise CorruptFileError(f"{uri}: cannot parse Parquet: {_reason(exc)}") from exc


def _iter_csv(
    handle: Any, uri: str, chunk_rows: int, dtype: Mapping[str, Any] | None
) -> Iterator[pd.DataFrame]:
    try:
        with pd.read_csv(handle, chunksize=chunk_rows, dtype=dict(dtype or {})) as chunks:
            yield from chunks
    except pd.errors.EmptyDataError:
        return
    except (ValueError, pd.errors.ParserError) as exc:
        raise CorruptFileError(f"{uri}: cannot parse CSV: {_reason(exc)}") from exc


class ChunkWriter:
    """Append DataFrame chunks to a Parquet or CSV table, published all or nothing.

    Use as a context manager: on a clean exit the temporary file (a sibling
    `.NAME.<pid>@<host>.<random>.tmp`) is renamed to `uri`; on an exception it is removed and
    `uri` is left as it was. Parquet `metadata` goes into the file's key-value
    metadata; every chunk must have the first chunk's columns.
    """

    def __init__(
        self,
        uri: str,
        storage_options: dict[str, Any] | None = None,
        *,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.uri = uri
        self.format = table_format(uri)
        self.fs, self.path = _resolve(uri, storage_options)
        self.metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.rows = 0
        self._tmp = _temp_sibling(self.path)
        self._handle: Any = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pyarrow.Schema | None = None
        self._columns: list[str] | None = None

    def __enter__(self) -> ChunkWriter:
        if self._is_local:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        try:
            self._handle = self.fs.open(self._tmp, "wb")
        except FileNotFoundError as exc:
            raise InputError(
                f"cannot write {self.uri}: its bucket or folder does not exist"
            ) from exc
        return self

    @property
    def _is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def write(self, chunk: pd.DataFrame) -> None:
        """Append one chunk; its columns must match the first chunk's."""
        if self._handle is None:
            raise RuntimeError("ChunkWriter.write outside its 'with' block")
        if self._columns is None:
            self._columns = [str(c) for c in chunk.columns]
        elif [str(c) for c in chunk.columns] != self._columns:
            raise InputError(
                f"{self.uri}: chunk columns {list(chunk.columns)} differ from the first "
                f"chunk's {self._columns}"
            )
        if self.format == "csv":
            text = chunk.to_csv(index=False, header=self.rows == 0)
            self._handle.write(text.encode("utf-8"))
        else:
            self._write_parquet(chunk)
        self.rows += len(chunk)

    def _write_parquet(self, chunk: pd.DataFrame) -> None:
        try:
            if self._schema is None:
                table = pyarrow.Table.from_pandas(chunk, preserve_index=False)
                meta = dict(table.schema.metadata or {})
                meta.update({k.encode(): v.encode() for k, v in self.metadata.items()})
                self._schema = table.schema.with_metadata(meta)
                table = table.replace_schema_metadata(meta)
                self._parquet = pq.ParquetWriter(self._handle, self._schema)
            else:
                table = pyarrow.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
        except (ValueError, TypeError, pyarrow.ArrowException) as exc:
            raise InputError(f"{self.uri}: cannot write as Parquet: {_reason(exc)}") from exc
        assert self._parquet is not None
        self._parquet.write_table(table)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._commit()
        else:
            self._abort()

    def _commit(self) -> None:
        try:
            if self._parquet is None and self.format == "parquet":
                raise InputError(f"{self.uri}: nothing to write (no chunks)")
            if self._parquet is not None:
                self._parquet.close()
            if self._is_local:
                self._handle.flush()
                with contextlib.suppress(AttributeError, OSError, ValueError):
                    os.fsync(self._handle.fileno())
            self._handle.close()
            if self._is_local:
                os.replace(self._tmp, self.path)
                _fsync_dir(os.path.dirname(os.path.abspath(self.path)) or ".")
            else:
                # Object stores have no rename: a server-side copy, then the temp key goes.
                self.fs.mv(self._tmp, self.path)
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
        handle = self._handle
        if handle is not None and self._is_local:
            with contextlib.suppress(Exception):
                handle.close()
        elif handle is not None:
            # A remote file publishes itself on close (even from its finalizer): throw the
            # buffered upload away and mark it closed so nothing is sent later.
            with contextlib.suppress(Exception):
                handle.discard()
            with contextlib.suppress(Exception):
                handle.closed = True
        with contextlib.suppress(Exception):
            if self.fs.exists(self._tmp):
                self.fs.rm(self._tmp)


def _temp_sibling(path: str) -> str:
    head, _, name = path.rpartition("/")
    tmp = temp_name(name)
    return f"{head}/{tmp}" if head else tmp


def transform_table(
    source: str,
    target: str,
    fn: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    source_options: dict[str, Any] | None = None,
    target_options: dict[str, Any] | None = None,
    dtype: Mapping[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> int:
    """Stream `source` through `fn` chunk by chunk into `target`; returns rows written.

    `target` appears only if every chunk went through: an error in `fn` or in a
    read leaves it untouched.
    """
    _check_rows(chunk_rows)
    with ChunkWriter(target, target_options, metadata=metadata) as writer:
        for chunk in iter_table(source, chunk_rows, source_options, dtype=dtype):
            writer.write(fn(chunk))
    return writer.rows


def parquet_metadata(uri: str, storage_options: dict[str, Any] | None = None) -> dict[str, str]:
    """A Parquet file's key-value metadata as text, pandas' own schema entry left out."""
    fs, path = _resolve(uri, storage_options)
    with _not_found_as_input_error(uri), fs.open(path, "rb") as handle:
        meta = pq.ParquetFile(handle).schema_arrow.metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "ChunkWriter",
    "iter_table",
    "parquet_metadata",
    "table_rows",
    "transform_table",
]
