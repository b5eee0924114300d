"""Open the run's storage: resolve the block and fail fast when it cannot work."""

from __future__ import annotations

from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage, load_storage
from libs.io.probe import probe_root
from libs.settings import PlatformSettings
from tasks._common import io_task


@io_task("open-storage", cache_policy=NO_CACHE)
def open_storage(settings: PlatformSettings) -> Storage:
    """The local folder, or the S3 bucket of `MLOPS_STORAGE_BLOCK`, checked before any work."""
    storage = load_storage(settings.storage_block, settings.storage_root)
    what = f"storage block '{storage.block}'" if storage.block else "storage"
    probe_root(storage.root, storage.options, what=what)
    return storage


__all__ = ["open_storage"]
