"""Where a run's data lives: a local folder (default) or an S3 bucket from a Prefect block.

The block supplies bucket, prefix and credentials; `libs.io` does the I/O with
the fsspec options built here. Secrets stay in the block and in this object's
`options`, which are kept out of its repr so they never reach logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from libs.errors import InputError


@dataclass(frozen=True)
class Storage:
    """A storage root URI and the fsspec options (credentials, endpoint) to reach it."""

    root: str
    options: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    block: str | None = None
    result_block: Any = field(default=None, repr=False, compare=False)

    @property
    def is_remote(self) -> bool:
        return self.root.startswith("s3://")

    @property
    def bucket(self) -> str | None:
        return self.root.removeprefix("s3://").split("/", 1)[0] if self.is_remote else None

    def artifact_env(self) -> dict[str, str]:
        """Environment MLflow's S3 artifact client reads (it has no other way in)."""
        if not self.is_remote:
            return {}
        env: dict[str, str] = {}
        if self.options.get("key"):
            env["AWS_ACCESS_KEY_ID"] = self.options["key"]
        if self.options.get("secret"):
            env["AWS_SECRET_ACCESS_KEY"] = self.options["secret"]
        if self.options.get("token"):
            env["AWS_SESSION_TOKEN"] = self.options["token"]
        client = self.options.get("client_kwargs", {})
        if client.get("endpoint_url"):
            env["MLFLOW_S3_ENDPOINT_URL"] = client["endpoint_url"]
        if client.get("region_name"):
            env["AWS_DEFAULT_REGION"] = client["region_name"]
        return env

    def secrets(self) -> list[str]:
        """Secret values, so tests and log filters can check they never leak."""
        return [v for k, v in self.options.items() if k in ("secret", "token") and v]


def _fsspec_options(credentials: Any) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if credentials is None:
        return options
    if credentials.aws_access_key_id:
        options["key"] = credentials.aws_access_key_id
    if credentials.aws_secret_access_key is not None:
        options["secret"] = credentials.aws_secret_access_key.get_secret_value()
    if credentials.aws_session_token:
        options["token"] = credentials.aws_session_token
    if credentials.profile_name:
        options["profile"] = credentials.profile_name
    client: dict[str, Any] = {}
    if credentials.region_name:
        client["region_name"] = credentials.region_name
    params = credentials.aws_client_parameters
    if params is not None and params.endpoint_url:
        client["endpoint_url"] = params.endpoint_url
    if client:
        options["client_kwargs"] = client
    return options


def load_storage(block_name: str | None, default_root: str) -> Storage:
    """The local folder when no block is named, else the named S3Bucket block."""
    if not block_name:
        return Storage(root=default_root)
    from prefect_aws import S3Bucket

    try:
        # Block.load is sync here (called outside an event loop); typed as either.
        bucket: Any = S3Bucket.load(block_name)
    except ValueError as exc:
        raise InputError(
            f"MLOPS_STORAGE_BLOCK: S3 bucket block '{block_name}' not found "
            f"(create it with: python -m blocks.register)"
        ) from exc
    folder = (bucket.bucket_folder or "").strip("/")
    root = f"s3://{bucket.bucket_name}" + (f"/{folder}" if folder else "")
    options = _fsspec_options(bucket.credentials)
    # Half a key pair fails only at the first request (after retries): name the field now.
    if bool(options.get("key")) != bool(options.get("secret")):
        lacks = "aws_access_key_id" if options.get("secret") else "aws_secret_access_key"
        raise InputError(
            f"MLOPS_STORAGE_BLOCK: the credentials of block '{block_name}' lack {lacks} "
            "(both the key id and the secret are needed)"
        )
    return Storage(
        root=root,
        options=options,
        block=block_name,
        result_block=bucket,
    )


__all__ = ["Storage", "load_storage"]
