"""Prefect block documents for storage (S3 bucket, AWS credentials) and their registration."""

from blocks.storage import Storage, load_storage

__all__ = ["Storage", "load_storage"]
