"""List the files below a storage URI (local folder or s3://), newest names last.

Beside `libs.io`'s single-file reads: the request log is many small Parquet
files, one per batch, under one folder per day.
"""

from __future__ import annotations

from typing import Any

from libs.io.storage import _resolve


def list_files(uri: str, suffix: str, storage_options: dict[str, Any] | None = None) -> list[str]:
    """Every file below `uri` whose name ends with `suffix`, as URIs, sorted; [] if none."""
    fs, path = _resolve(uri, storage_options)
    if not fs.exists(path):
        return []
    found = sorted(p for p in fs.find(path) if p.endswith(suffix))
    if "://" not in uri:
        return found
    scheme = uri.split("://", 1)[0]
    return [f"{scheme}://{p}" if "://" not in p else p for p in found]


__all__ = ["list_files"]
