"""Errors raised by libs/io: all are `InputError`, so the CLI reports them in one line."""

from __future__ import annotations

from libs.errors import InputError


class StorageNotFoundError(InputError):
    """The URI names no stored object."""


class UnsupportedFormatError(InputError):
    """The URI's extension names a table format this library does not read or write."""


class CorruptFileError(InputError):
    """The object exists but its bytes do not parse (truncated Parquet, malformed CSV/JSON)."""


class UnsafeKeyError(InputError):
    """A storage key would escape its root (`..`, an absolute path, or a URI scheme)."""


class SchemaCheckError(InputError):
    """A table failed its schema check; the message names the source, column and check."""


__all__ = [
    "CorruptFileError",
    "SchemaCheckError",
    "StorageNotFoundError",
    "UnsafeKeyError",
    "UnsupportedFormatError",
]
