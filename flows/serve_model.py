"""`python -m flows.serve_model`: serve `models:/NAME@champion` over HTTP, following the alias.

    python -m flows.serve_model --model NAME [--host 127.0.0.1] [--port 5002]
                                [--poll-seconds 2] [--log-rate 1.0]
    python -m flows.serve_model rollback --model NAME --reason TEXT [--by WHO]

The first starts the scoring server (`deployments.serving`): MLflow's scoring
protocol on loopback by default, each response naming the version that made
it; when `@champion` moves (the gate, a person in the MLflow UI, a rollback)
the new version is loaded, smoke-tested and swapped in without dropping a
request. A sample of requests (`--log-rate`, the share kept) goes to
`<storage>/requests/NAME/` as Parquet: the local folder, or the bucket of
`MLOPS_STORAGE_BLOCK` with the block's credentials. The second moves `@champion` back to the
previous champion, recording who, when and why; a running server follows.
With `MLOPS_SERVING_WEBHOOK_SECRET` set, the server also takes MLflow registry
webhooks on `/webhooks/mlflow` (HMAC-verified) and follows an alias move at once.
An unknown model or a bad setting prints one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from libs.errors import InputError

if TYPE_CHECKING:  # imported when used: `--help` and a bad argument stay fast
    from blocks.storage import Storage
    from libs.serving import RequestLog
    from libs.settings import PlatformSettings

DEFAULT_PORT = 5002
# The shared secret of an MLflow registry webhook on this server (`/webhooks/mlflow`):
# from the environment only, like every credential.
WEBHOOK_SECRET_ENV = "MLOPS_SERVING_WEBHOOK_SECRET"
LOOPBACK = "127.0.0.1"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flows.serve_model", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", nargs="?", choices=("serve", "rollback"), default="serve")
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument("--host", default=LOOPBACK, help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--poll-seconds", type=float, default=2.0, help="how often the alias is read"
    )
    parser.add_argument(
        "--log-rate", type=float, default=1.0, help="share of requests logged (0 to 1)"
    )
    parser.add_argument("--reason", help="rollback: why (recorded on the versions)")
    parser.add_argument("--by", default=None, help="rollback: who (default: the OS user)")
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Every setting checked before anything loads: one line naming the field."""
    if not args.model.strip():
        raise InputError("--model: give a registered model name")
    if args.command == "rollback":
        if not (args.reason or "").strip():
            raise InputError("--reason: say why the champion is rolled back (it is recorded)")
        return
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port: {args.port} is not a port (1 to 65535)")
    if not args.poll_seconds > 0:
        raise InputError(f"--poll-seconds: must be above 0, got {args.poll_seconds:g}")
    if not 0.0 <= args.log_rate <= 1.0:
        raise InputError(f"--log-rate: must be within 0 and 1, got {args.log_rate:g}")


def serve(args: argparse.Namespace) -> None:
    """Load and smoke-test the champion, then serve it until interrupted."""
    from deployments.serving import ChampionFollower, Registry, create_app, run_server
    from libs.serving import ModelSlot, smoke_test
    from libs.settings import check_environment
    from tasks import tracking

    settings = check_environment()  # one line naming a bad MLOPS_ variable
    name = args.model
    storage = open_serving_storage(settings)  # before the model: its artifacts may be there
    ref = tracking.resolve_model_version(settings, name)
    served = tracking.serving.load_served_model(settings, name, ref.version)
    smoke_test(served)
    registry = Registry(
        champion_version=lambda: tracking.serving.champion_version(settings, name),
        load=lambda version: tracking.serving.load_served_model(settings, name, version),
        reject=lambda version, why: tracking.serving.record_rejection(settings, name, version, why),
        announce=_announcer(settings.home_dir, name),
    )
    slot = ModelSlot(served)
    follower = ChampionFollower(slot, registry, poll_seconds=args.poll_seconds)
    request_log = request_log_for(storage, name, args.log_rate)
    logged = (
        f"{args.log_rate:g} of requests to {request_log.root_uri}" if request_log else "no requests"
    )
    print(
        f"serving {name} v{served.version} on http://{args.host}:{args.port}/invocations "
        f"(follows @champion every {args.poll_seconds:g} s; logging {logged})",
        flush=True,
    )
    secret = os.environ.get(WEBHOOK_SECRET_ENV) or None
    app = create_app(slot, follower, request_log, webhook_secret=secret)
    run_server(app, args.host, args.port)


def open_serving_storage(settings: PlatformSettings) -> Storage:
    """The storage runs use: the local folder, or the S3 bucket of `MLOPS_STORAGE_BLOCK`
    with the block's credentials (read from the Prefect server that holds the block),
    probed as a run probes it. MLflow's artifact client gets the same credentials, so a
    champion logged to the bucket loads with nothing in the environment but the block."""
    from tasks import tracking
    from tasks.storage import open_storage

    if settings.storage_block:
        from deployments.runtime import local_prefect

        with local_prefect(settings):  # the block lives in a Prefect server
            storage = open_storage.fn(settings)
    else:
        storage = open_storage.fn(settings)
    tracking.use_artifact_credentials(storage.artifact_env())
    return storage


def request_log_for(storage: Storage, name: str, rate: float) -> RequestLog | None:
    """The sampled request log of model `name`: `<storage root>/requests/NAME/`, written
    with the storage's own options (the block's credentials for S3); None at rate 0."""
    from libs.serving import RequestLog, request_log_uri
    from tasks.predict_input import options_for

    if rate <= 0:
        return None
    uri = request_log_uri(storage.root, name)
    return RequestLog(uri, rate=rate, storage_options=options_for(storage, uri))


def _announcer(home: Path, name: str) -> Callable[[str, str, str], None] | None:
    """Where a Prefect server is known (`PREFECT_API_URL`, the profile, or `make serve`'s),
    a refused champion becomes the event `mlops.serving.rejected` there; without one, the
    registry tag and the log line say it (the scoring server never starts a Prefect server)."""
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_URL,
        get_current_settings,
        temporary_settings,
    )

    from deployments.runtime import discover
    from tasks.watch import announce_rejection

    api = get_current_settings().api.url
    if not api:
        found = discover(home)
        api = found["prefect_api_url"] if found else None
    if not api:
        return None

    updates = {PREFECT_API_URL: api}
    login = os.environ.get("PREFECT_API_AUTH_STRING")  # team mode's (discover logged in)
    if login:
        updates[PREFECT_API_AUTH_STRING] = login

    def announce(version: str, served: str, reason: str) -> None:
        with temporary_settings(updates=updates):
            announce_rejection(name, version, served, reason)

    return announce


def rollback(args: argparse.Namespace) -> None:
    from libs.settings import check_environment
    from tasks import tracking

    settings = check_environment()  # one line naming a bad MLOPS_ variable
    tracking.resolve_model_version(settings, args.model)  # an unknown model is one line
    done = tracking.serving.rollback_champion(
        settings, args.model, by=args.by or getpass.getuser(), reason=args.reason
    )
    print(
        f"{done.name}: @champion moved back from v{done.from_version} to v{done.to_version} "
        f"by {done.by} at {done.at} ({done.reason}); a running server follows within its poll"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    try:
        check_args(args)
        (rollback if args.command == "rollback" else serve)(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a champion that cannot load, a store that cannot be read
        line = f"error: {args.command} failed: {type(exc).__name__}: {exc}".splitlines()[0]
        print(line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
