"""`python -m blocks.register`: create or update the storage blocks, idempotently.

    python -m blocks.register [--file blocks.yaml] [--bucket-block NAME] [--credentials-block NAME]

Values come from a small YAML file or from the environment:

    MLOPS_S3_BUCKET (required), MLOPS_S3_PREFIX, MLOPS_S3_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION

The YAML file has the same keys in lower case without prefixes (bucket, prefix,
endpoint_url, aws_access_key_id, aws_secret_access_key, aws_session_token,
region_name). A block whose values already match is left as it is, so running
the command twice changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from libs.config import read_yaml, validate
from libs.errors import InputError

DEFAULT_BUCKET_BLOCK = "mlops-data"
DEFAULT_CREDENTIALS_BLOCK = "mlops-aws"


class StorageBlocksSpec(BaseModel):
    """What the two blocks hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
    prefix: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: str | None = None


_ENV = {
    "bucket": "MLOPS_S3_BUCKET",
    "prefix": "MLOPS_S3_PREFIX",
    "endpoint_url": "MLOPS_S3_ENDPOINT_URL",
    "region_name": "AWS_DEFAULT_REGION",
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
}


def spec_from_env(environ: dict[str, str] | None = None) -> StorageBlocksSpec:
    environ = dict(os.environ if environ is None else environ)
    data = {key: environ[var] for key, var in _ENV.items() if environ.get(var)}
    if "bucket" not in data:
        raise InputError("MLOPS_S3_BUCKET: required (or pass --file blocks.yaml)")
    return validate(StorageBlocksSpec, data, "environment")


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def _credentials_state(block: Any) -> dict[str, Any]:
    params = block.aws_client_parameters
    return {
        "aws_access_key_id": block.aws_access_key_id,
        "aws_secret_access_key": _secret(block.aws_secret_access_key),
        "aws_session_token": block.aws_session_token,
        "region_name": block.region_name,
        "endpoint_url": params.endpoint_url if params is not None else None,
    }


def register_blocks(
    spec: StorageBlocksSpec,
    *,
    bucket_block: str = DEFAULT_BUCKET_BLOCK,
    credentials_block: str = DEFAULT_CREDENTIALS_BLOCK,
) -> dict[str, str]:
    """Create or update both blocks; returns each block's outcome (created/updated/unchanged)."""
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    wanted_credentials = AwsCredentials(
        aws_access_key_id=spec.aws_access_key_id,
        aws_secret_access_key=spec.aws_secret_access_key,
        aws_session_token=spec.aws_session_token,
        region_name=spec.region_name,
        aws_client_parameters=AwsClientParameters(endpoint_url=spec.endpoint_url),
    )
    outcome: dict[str, str] = {}
    try:
        current_credentials = AwsCredentials.load(credentials_block)
    except ValueError:
        current_credentials = None
    if current_credentials is None:
        wanted_credentials.save(credentials_block)
        outcome[credentials_block] = "created"
    elif _credentials_state(current_credentials) != _credentials_state(wanted_credentials):
        wanted_credentials.save(credentials_block, overwrite=True)
        outcome[credentials_block] = "updated"
    else:
        outcome[credentials_block] = "unchanged"
    credentials = AwsCredentials.load(credentials_block)

    try:
        current_bucket: Any = S3Bucket.load(bucket_block)
    except ValueError:
        current_bucket = None
    folder = spec.prefix.strip("/")
    if current_bucket is None:
        S3Bucket(bucket_name=spec.bucket, bucket_folder=folder, credentials=credentials).save(
            bucket_block
        )
        outcome[bucket_block] = "created"
    elif (
        current_bucket.bucket_name != spec.bucket
        or (current_bucket.bucket_folder or "") != folder
        or _credentials_state(current_bucket.credentials) != _credentials_state(credentials)
    ):
        S3Bucket(bucket_name=spec.bucket, bucket_folder=folder, credentials=credentials).save(
            bucket_block, overwrite=True
        )
        outcome[bucket_block] = "updated"
    else:
        outcome[bucket_block] = "unchanged"
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m blocks.register", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--file", help="YAML with the block values (default: environment)")
    parser.add_argument("--bucket-block", default=DEFAULT_BUCKET_BLOCK)
    parser.add_argument("--credentials-block", default=DEFAULT_CREDENTIALS_BLOCK)
    args = parser.parse_args(argv)
    try:
        if args.file:
            spec = validate(StorageBlocksSpec, read_yaml(args.file), args.file)
        else:
            spec = spec_from_env()
        from deployments.runtime import local_prefect

        with local_prefect():
            outcome = register_blocks(
                spec, bucket_block=args.bucket_block, credentials_block=args.credentials_block
            )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, what in outcome.items():
        print(f"{name}: {what}")
    print(f"Use it with: MLOPS_STORAGE_BLOCK={args.bucket_block}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
