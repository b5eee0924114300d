"""Fail fast on a storage root that cannot work: a missing bucket, rejected credentials."""

from __future__ import annotations

from typing import Any

from libs.errors import InputError
from libs.io.storage import _CREDENTIAL_ERRORS, _resolve


def probe_root(
    root: str, storage_options: dict[str, Any] | None = None, *, what: str = "storage"
) -> None:
    """Check that the root's bucket (or local parent) is reachable with these options.

    A transient network error propagates unchanged (callers retry it); a missing
    bucket or rejected credentials become one `InputError` line naming the bucket,
    since retrying them would only delay the same failure.
    """
    if "://" not in root or root.startswith("file://"):
        return  # local folders are created on first write
    fs, path = _resolve(root, storage_options)
    protocol = root.split("://", 1)[0]
    bucket = path.split("/", 1)[0]
    try:
        fs.info(bucket)
    except FileNotFoundError as exc:
        raise InputError(
            f"{what}: bucket '{bucket}' does not exist ({protocol}://{bucket})"
        ) from exc
    except PermissionError as exc:
        raise InputError(
            f"{what}: access to bucket '{bucket}' denied: credentials rejected or not allowed "
            f"({type(exc).__name__})"
        ) from exc
    except OSError as exc:
        text = str(exc)
        if any(
            code in text
            for code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403")
        ):
            raise InputError(
                f"{what}: access to bucket '{bucket}' denied: {text.splitlines()[0][:200]}"
            ) from exc
        raise
    except Exception as exc:
        # botocore's "no keys" errors, by name (see libs.io.storage): never transient.
        if type(exc).__name__ not in _CREDENTIAL_ERRORS:
            raise
        raise InputError(f"{what}: no usable credentials for bucket '{bucket}': {exc}") from exc


__all__ = ["probe_root"]
