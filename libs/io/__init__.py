"""URI-addressed storage for tables, JSON and bytes (local paths, file://, s3://, memory://).

The only library that touches storage: everything else takes and returns
values. Every user-facing failure is an `InputError` subclass with a one-line
message naming the URI.
"""

from libs.io.chunks import (
    DEFAULT_CHUNK_ROWS,
    ChunkWriter,
    iter_table,
    parquet_metadata,
    table_rows,
    transform_table,
)
from libs.io.errors import (
    CorruptFileError,
    SchemaCheckError,
    StorageNotFoundError,
    UnsafeKeyError,
    UnsupportedFormatError,
)
from libs.io.schema import check_table
from libs.io.storage import digest, exists, join_key, read_bytes, write_bytes
from libs.io.tables import read_json, read_table, table_format, write_json, write_table

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "ChunkWriter",
    "CorruptFileError",
    "SchemaCheckError",
    "StorageNotFoundError",
    "UnsafeKeyError",
    "UnsupportedFormatError",
    "check_table",
    "digest",
    "exists",
    "iter_table",
    "join_key",
    "parquet_metadata",
    "read_bytes",
    "read_json",
    "read_table",
    "table_format",
    "table_rows",
    "transform_table",
    "write_bytes",
    "write_json",
    "write_table",
]
