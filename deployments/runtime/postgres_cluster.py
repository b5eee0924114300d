"""The local PostgreSQL cluster's files and processes: the user it runs as, initdb
and its password file, the server process. `deployments.runtime.postgres` decides
when; these do it.

PostgreSQL refuses to run as root: as root the cluster belongs to the
`postgres` system user (Debian's package creates it; `MLOPS_POSTGRES_USER`
names another), which must be able to reach the state folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from deployments.runtime.procs import alive, server_env, spawn

SUPERUSER = "mlops"
PASSWORD_FILE = "password"


def cluster_owner() -> pwd.struct_passwd | None:
    """The user the local cluster runs as: None for this user (when not root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("MLOPS_POSTGRES_USER", "postgres")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(
            f"PostgreSQL refuses to run as root and there is no user {name!r} to run it as: "
            "install Debian's postgresql package (it creates `postgres`) or set "
            "MLOPS_POSTGRES_USER"
        ) from None


def as_owner(owner: pwd.struct_passwd | None) -> dict[str, object]:
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def reachable(folder: Path, owner: pwd.struct_passwd) -> bool:
    """Whether `owner` can enter every folder above `folder` (checked as that user)."""
    probe = subprocess.run(
        ["test", "-x", str(folder.parent)],
        **as_owner(owner),  # type: ignore[call-overload]
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def let_in(serve_folder: Path) -> None:
    """Let the cluster's user pass through `serve/` (others' execute bit only: no listing).

    As root the cluster runs as another user, who must reach `serve/postgres`;
    the warm worker makes `serve/` 0700 (its socket is 0600 and checks its
    peer's uid, so entering the folder gives nothing else away).
    """
    try:
        info = serve_folder.stat()
    except OSError:
        return
    if info.st_uid == os.geteuid() and not info.st_mode & 0o001:
        os.chmod(serve_folder, (info.st_mode & 0o7777) | 0o001)


def complete(folder: Path) -> bool:
    """Whether the cluster under `folder` was made whole: initdb finished and its password kept.

    initdb writes PG_VERSION early: a start killed during initdb leaves it, and
    a cluster whose superuser password nobody knows. The password file is
    written only once initdb succeeded, so it marks a usable cluster.
    """
    data = folder / "data"
    made = (data / "PG_VERSION").is_file()
    if made and (folder / PASSWORD_FILE).is_file():
        return True
    if made and (folder / "cluster.json").is_file():
        # It ran once, so it may hold databases: never made again behind the user's back.
        raise RuntimeError(
            f"the PostgreSQL cluster in {data} has lost its password file "
            f"({folder / PASSWORD_FILE}); restore it, or remove {folder} to start afresh"
        )
    return False


def end_initdb(data: Path) -> None:
    """Kill an initdb still running on `data` (its start was killed, it was not)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"initdb") and str(data).encode() in argv:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
            deadline = time.monotonic() + 5
            while alive(int(entry.name)) and time.monotonic() < deadline:
                time.sleep(0.05)


def initdb(bin_dir: Path, folder: Path, data: Path, owner: pwd.struct_passwd | None) -> None:
    end_initdb(data)  # an interrupted start's initdb may still be writing there
    shutil.rmtree(data, ignore_errors=True)  # a half-made cluster of an interrupted start
    for stale in folder.glob(f".{PASSWORD_FILE}.*"):  # its password, never used
        stale.unlink(missing_ok=True)
    password = secrets.token_urlsafe(24)
    secret = folder / PASSWORD_FILE
    tmp = folder / f".{PASSWORD_FILE}.{os.getpid()}"
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(password)
    if owner is not None:  # initdb, run as the cluster's user, reads it
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    log = folder / "initdb.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth-host=scram-sha-256",  # TCP: the password
                "--auth-local=trust",  # the socket: its owner only (see start_server)
                f"--pwfile={tmp}",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            **as_owner(owner),  # type: ignore[call-overload]
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(LC_ALL="C.UTF-8"),
            cwd=folder,
            check=False,
            timeout=120,
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-1500:]
        shutil.rmtree(data, ignore_errors=True)
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"initdb failed in {data}:\n{tail}")
    if owner is not None:
        os.chown(tmp, os.geteuid(), os.getegid())  # kept by who runs `serve`, not the cluster
    os.replace(tmp, secret)


def start_server(
    bin_dir: Path, folder: Path, data: Path, port: int, owner: pwd.struct_passwd | None
) -> None:
    (data / "postmaster.pid").unlink(missing_ok=True)  # left by a killed cluster
    argv = [
        str(bin_dir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={folder}",
        "-c",
        "unix_socket_permissions=0700",
        "-c",
        "max_connections=200",  # two servers' pools, workers and their flow runs
        "-c",
        "fsync=off" if os.environ.get("MLOPS_POSTGRES_FSYNC") == "off" else "fsync=on",
    ]
    spawn("postgres", argv, server_env(LC_ALL="C.UTF-8"), folder, user=owner)
    tmp = folder / f".cluster.json.{os.getpid()}"
    tmp.write_text(json.dumps({"port": port}))
    os.replace(tmp, folder / "cluster.json")


__all__ = [
    "PASSWORD_FILE",
    "SUPERUSER",
    "as_owner",
    "cluster_owner",
    "complete",
    "initdb",
    "let_in",
    "reachable",
    "start_server",
]
