"""Team mode's logins: the Prefect server's auth string and MLflow's basic-auth accounts.

`serve start --db postgres` serves a team, so its servers ask who calls: the
Prefect server checks `PREFECT_SERVER_API_AUTH_STRING` (HTTP basic auth on the
API and the UI; `/health` stays open) and the MLflow server runs MLflow's
`basic-auth` app. The logins are made at the first team start and kept in
`<MLOPS_HOME>/serve/team-auth.json`, readable by its owner only, like the
cluster's password:

- `mlops`, the platform's own account: the Prefect auth string's user and
  MLflow's admin. The commands, workers and the warm worker log in with it, so
  the gate that trains, registers and moves `@champion` runs as it (MLflow
  grants the creator of a registered model MANAGE on it).
- `reader`, for people: MLflow's default permission is READ, so it sees every
  experiment, run and model and can move no alias (403).

MLflow's own user table lives beside the logins (`mlflow-auth.db`, SQLite):
it holds nothing but the accounts and the permissions granted on top of READ.
Standard library only: `discover` reads this before anything heavy is imported.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

AUTH_FILE = Path("serve") / "team-auth.json"
AUTH_DB = Path("serve") / "mlflow-auth.db"
AUTH_INI = Path("serve") / "mlflow-auth.ini"
PLATFORM_USER = "mlops"
READER_USER = "reader"
# What a client process is given to log in (MLflow's and Prefect's own settings).
CLIENT_VARIABLES = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "PREFECT_API_AUTH_STRING",
)


@dataclass(frozen=True)
class Login:
    """A user name and its password."""

    username: str
    password: str

    @property
    def pair(self) -> str:
        """`user:password`: Prefect's auth string, and what basic auth encodes."""
        return f"{self.username}:{self.password}"

    @property
    def header(self) -> str:
        """The `Authorization` header value of this login."""
        return "Basic " + base64.b64encode(self.pair.encode()).decode()


@dataclass(frozen=True)
class TeamAuth:
    """Team mode's logins: Prefect's, MLflow's platform (admin) and reader accounts."""

    prefect: Login
    platform: Login
    reader: Login
    flask_secret: str  # the MLflow auth app's CSRF key: one per home, stable across restarts


def auth_file(home: Path) -> Path:
    return home / AUTH_FILE


def load(home: Path) -> TeamAuth | None:
    """The home's logins, when team mode made them (None otherwise)."""
    try:
        raw = json.loads(auth_file(home).read_text())
        return TeamAuth(
            prefect=Login(**raw["prefect"]),
            platform=Login(**raw["platform"]),
            reader=Login(**raw["reader"]),
            flask_secret=str(raw["flask_secret"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure(home: Path) -> TeamAuth:
    """The home's logins, made at the first call (0600, written whole, never replaced).

    Logins made afresh also make MLflow's user table afresh: its admin was made
    with the lost password and would refuse the new one.
    """
    found = load(home)
    if found is not None:
        return found
    path = auth_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)

    def password() -> str:
        return secrets.token_urlsafe(24)  # 32 characters: over MLflow's 12-character minimum

    made = TeamAuth(
        prefect=Login(PLATFORM_USER, password()),
        platform=Login(PLATFORM_USER, password()),
        reader=Login(READER_USER, password()),
        flask_secret=secrets.token_urlsafe(32),
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(made), handle)
    try:
        os.link(tmp, path)  # fails when another start made them first: keep theirs
    except FileExistsError:
        pass
    else:
        (home / AUTH_DB).unlink(missing_ok=True)
    finally:
        tmp.unlink()
    found = load(home)
    if found is None:
        raise RuntimeError(
            f"team mode's logins in {path} cannot be read: remove the file to make new ones "
            "(make serve-stop first)"
        )
    return found


def prefect_server_env(auth: TeamAuth) -> dict[str, str]:
    """The Prefect server's login setting (its environment, never its command line)."""
    return {"PREFECT_SERVER_API_AUTH_STRING": auth.prefect.pair}


MLFLOW_APP_ARGS = ("--app-name", "basic-auth")
AUTH_CACHE_SECONDS = 3600


def mlflow_server_env(home: Path, auth: TeamAuth) -> dict[str, str]:
    """The MLflow auth app's settings: its config file (written here), admin and CSRF key."""
    ini = home / AUTH_INI
    db = (home / AUTH_DB).resolve()
    os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))  # password hashes: owner only
    os.chmod(db, 0o600)
    text = (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{db}\n"
        f"admin_username = {PLATFORM_USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # A checked login is remembered for an hour: MLflow hashes passwords with scrypt,
        # 1.6-2.2 s a request on a loaded 2-core machine, 35 ms with the cache. One worker
        # serves (`--workers 1`), so a password changed through the API takes effect at once.
        f"auth_cache_ttl_seconds = {AUTH_CACHE_SECONDS}\n"
    )
    tmp = ini.with_name(f".{ini.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, ini)
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(ini.resolve()),
        "MLFLOW_AUTH_ADMIN_USERNAME": auth.platform.username,
        "MLFLOW_AUTH_ADMIN_PASSWORD": auth.platform.password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": auth.flask_secret,
    }


def client_env(auth: TeamAuth) -> dict[str, str]:
    """What a client process sets to talk to the team servers as the platform."""
    return {
        "MLFLOW_TRACKING_USERNAME": auth.platform.username,
        "MLFLOW_TRACKING_PASSWORD": auth.platform.password,
        "PREFECT_API_AUTH_STRING": auth.prefect.pair,
    }


def log_in(home: Path) -> TeamAuth | None:
    """Let this process (and the processes it starts) call the team servers as the platform.

    MLflow's client reads its login from the environment at each request; Prefect's
    is read when its settings are built (`local_prefect` passes it on as well).
    """
    auth = load(home)
    if auth is not None:
        os.environ.update(client_env(auth))
    return auth


def _post(url: str, body: dict[str, str], login: Login, method: str = "POST") -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": login.header},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def ensure_reader(mlflow_url: str, auth: TeamAuth) -> None:
    """Make the reader account on the MLflow server (as its admin), with the kept password."""
    api = f"{mlflow_url.rstrip('/')}/api/2.0/mlflow/users"
    body = {"username": auth.reader.username, "password": auth.reader.password}
    status = _post(f"{api}/create", body, auth.platform)
    if status == 400:  # made by an earlier start: make sure it has the kept password
        status = _post(f"{api}/update-password", body, auth.platform, method="PATCH")
    if status != 200:
        raise RuntimeError(
            f"the MLflow server at {mlflow_url} refused to set up the {auth.reader.username!r} "
            f"account (HTTP {status})"
        )


def auth_header(kind: str) -> dict[str, str]:
    """This process's login for a `kind` ("mlflow" or "prefect") server, as a header."""
    if kind == "mlflow":
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
        if user and password:
            return {"Authorization": Login(user, password).header}
        return {}
    pair = os.environ.get("PREFECT_API_AUTH_STRING")
    if pair and ":" in pair:
        user, _, password = pair.partition(":")
        return {"Authorization": Login(user, password).header}
    return {}


__all__ = [
    "AUTH_DB",
    "AUTH_FILE",
    "CLIENT_VARIABLES",
    "MLFLOW_APP_ARGS",
    "PLATFORM_USER",
    "READER_USER",
    "Login",
    "TeamAuth",
    "auth_file",
    "auth_header",
    "client_env",
    "ensure",
    "ensure_reader",
    "load",
    "log_in",
    "mlflow_server_env",
    "prefect_server_env",
]
