"""Bytes in and out of URI-addressed storage (local paths, file://, s3://, memory://).

Everything that touches storage goes through `_resolve`, so that a bad URI, a
missing object or a missing protocol package becomes one `InputError` line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
from collections.abc import Iterator
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from libs.errors import InputError
from libs.io.errors import StorageNotFoundError, UnsafeKeyError

_CHUNK = 1 << 20
# "s3:", "file:", "c:" ... anything that would make a key address something else.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _resolve(uri: str, storage_options: dict[str, Any] | None) -> tuple[AbstractFileSystem, str]:
    """Map a URI to its fsspec filesystem and path; fsspec imports s3fs itself when needed."""
    if not isinstance(uri, str) or not uri.strip():
        raise InputError(f"storage URI must be a non-empty string, got {uri!r}")
    try:
        return url_to_fs(uri, **(storage_options or {}))
    except ImportError as exc:
        raise InputError(
            f"{uri}: storage protocol needs a package that is not installed: {exc}"
        ) from exc
    except ValueError as exc:
        raise InputError(f"{uri}: unsupported storage URI: {exc}") from exc


# botocore's "no keys" errors, by name: importing botocore here would load it for local runs.
_CREDENTIAL_ERRORS = frozenset(
    {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}
)


@contextlib.contextmanager
def _not_found_as_input_error(uri: str) -> Iterator[None]:
    """Turn the storage layer's 'missing', 'is a directory', 'no credentials' and 'access
    denied' errors into user errors: retrying them would fail the same way."""
    try:
        yield
    except FileNotFoundError as exc:
        raise StorageNotFoundError(f"file not found: {uri}") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{uri}: is a directory, expected a file") from exc
    except PermissionError as exc:
        raise InputError(f"{uri}: access denied: {exc}") from exc
    except Exception as exc:
        if type(exc).__name__ not in _CREDENTIAL_ERRORS:
            raise
        raise InputError(
            f"{uri}: no usable credentials ({exc}); name a storage block with credentials "
            "(MLOPS_STORAGE_BLOCK) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from exc


def read_bytes(uri: str, storage_options: dict[str, Any] | None = None) -> bytes:
    """Read a whole stored object."""
    fs, path = _resolve(uri, storage_options)
    with _not_found_as_input_error(uri):
        return fs.cat_file(path)


def write_bytes(data: bytes, uri: str, storage_options: dict[str, Any] | None = None) -> str:
    """Write `data` to `uri` all or nothing and return its sha256 hex digest.

    Local targets go through a temporary file in the same folder and
    `os.replace`, so a reader never sees a half-written file. Remote targets get
    the bytes in one put: object stores publish an object only when the put
    completes, so a failure leaves no partial object.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"write_bytes expects bytes, got {type(data).__name__}")
    if not isinstance(data, bytes):
        data = bytes(data)
    fs, path = _resolve(uri, storage_options)
    try:
        if isinstance(fs, LocalFileSystem):
            _write_local_atomic(path, data)
        else:
            fs.pipe_file(path, data)
    except IsADirectoryError as exc:
        raise InputError(f"{uri}: is a directory, expected a file") from exc
    except FileNotFoundError as exc:
        # Remote stores say this when the bucket itself is missing.
        raise StorageNotFoundError(
            f"cannot write {uri}: its bucket or folder does not exist"
        ) from exc
    return hashlib.sha256(data).hexdigest()


def _write_local_atomic(path: str, data: bytes) -> None:
    """Write through a same-folder temp file, fsync it, then rename over the target."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    # os.open with 0o666 lets the umask decide the final mode, as a plain open() would;
    # tempfile.mkstemp would leave the target readable by its owner only.
    tmp = os.path.join(directory, temp_name(os.path.basename(path)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


# `.NAME.<pid>@<host>.<16 hex>.tmp`: the writer is named so that a later run can tell the
# leftovers of a killed writer (its pid gone on this host) from a write in progress.
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>[A-Za-z0-9-]*)\.[0-9a-f]{16}\.tmp$")


def _host_label() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:63]


def temp_name(name: str) -> str:
    """The hidden sibling an atomic write of `name` goes through, naming its writer."""
    return f".{name}.{os.getpid()}@{_host_label()}.{secrets.token_hex(8)}.tmp"


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_dead_temp_files(folder: str, *, recursive: bool = False) -> list[str]:
    """Delete the temp files in a local `folder` whose writer died on this host.

    A killed process cannot remove its half-written temp file; one whose pid is
    still alive (or that another host wrote) may be a write in progress and stays.
    Returns the paths removed; a folder that does not exist has none.
    """
    if "://" in folder and not folder.startswith("file://"):
        return []
    root = folder.removeprefix("file://")
    if not os.path.isdir(root):
        return []
    host = _host_label()
    if recursive:
        walked = [(d, files) for d, _, files in os.walk(root)]
    else:
        walked = [(root, [f for f in os.listdir(root) if os.path.isfile(os.path.join(root, f))])]
    removed = []
    for directory, files in walked:
        for name in files:
            match = _TEMP_NAME.match(name)
            if match is None or match["host"] != host or process_alive(int(match["pid"])):
                continue
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                os.unlink(os.path.join(directory, name))
                removed.append(os.path.join(directory, name))
    return removed


def _fsync_dir(directory: str) -> None:
    """Persist the rename itself; not every platform can open a folder, hence best effort."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def digest(uri: str, storage_options: dict[str, Any] | None = None) -> str:
    """Return the sha256 hex digest of a stored object, streamed so large files fit in memory."""
    fs, path = _resolve(uri, storage_options)
    sha = hashlib.sha256()
    with _not_found_as_input_error(uri), fs.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def exists(uri: str, storage_options: dict[str, Any] | None = None) -> bool:
    """Say whether an object (or folder) exists at `uri`."""
    fs, path = _resolve(uri, storage_options)
    with _not_found_as_input_error(uri):
        return bool(fs.exists(path))


def join_key(root: str, key: str) -> str:
    """Join a storage root and a relative key, refusing keys that would leave the root.

    Keys often come from configs or data (run ids, dataset names); a `..`, an
    absolute path or a scheme in one would write outside the storage root.
    """
    if not isinstance(root, str) or not root.strip():
        raise InputError(f"storage root must be a non-empty string, got {root!r}")
    if not isinstance(key, str) or not key.strip():
        raise UnsafeKeyError(f"storage key must be a non-empty string, got {key!r}")
    if key.startswith(("/", "\\")):
        raise UnsafeKeyError(f"storage key {key!r} is an absolute path; expected a relative key")
    if _SCHEME.match(key):
        raise UnsafeKeyError(f"storage key {key!r} has a URI scheme; expected a relative key")
    # Backslashes count as separators too, so "a\\..\\b" cannot escape on Windows.
    parts = [part for part in re.split(r"[/\\]", key) if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeKeyError(f"storage key {key!r} contains '..'; keys must stay under the root")
    if not parts:
        raise UnsafeKeyError(f"storage key {key!r} names no object")
    relative = "/".join(parts)
    if root.endswith("://"):
        return root + relative
    return root.rstrip("/") + "/" + relative


__all__ = [
    "digest",
    "exists",
    "join_key",
    "process_alive",
    "read_bytes",
    "remove_dead_temp_files",
    "write_bytes",
]
