"""The local servers (deployments.runtime): one per state folder, lean environment, clean stop."""

from __future__ import annotations

import http.server
import json
import os
import select
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from deployments.runtime import procs
from deployments.runtime.servers import begin, free_port, start, stop, undo

REPO = Path(__file__).resolve().parents[2]
SECRET = "wt-test-secret-that-must-not-leak"
# What a command does first (begin, without waiting), then before its flow (start),
# released together so that all of them meet a state folder that has no server yet.
STARTER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from deployments.runtime.servers import begin, start

    home, port = Path(sys.argv[1]), int(sys.argv[2])
    gate, ready = int(sys.argv[3]), int(sys.argv[4])
    os.write(ready, b"r")  # imported, at the gate
    os.read(gate, 1)  # returns in every starter at once, when the test closes the pipe
    begun = begin(home, prefect_port=port, mlflow_port=None)
    served = start(home, prefect_port=port, mlflow_port=None, timeout=240)
    print(json.dumps({"url": served.prefect_api_url, "began": list(begun.began)}))
    """
)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "PREFECT_", "MLFLOW_"))
    }
    env.update(
        MLOPS_HOME=str(home),
        PYTHONPATH=str(REPO),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        AWS_ACCESS_KEY_ID="AKIAWTTEST",
        AWS_SECRET_ACCESS_KEY=SECRET,
        **extra,
    )
    return env


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(
        item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
    )


def _server_processes(home: Path) -> dict[int, int]:
    """Running processes started for this home's Prefect server: pid -> process group."""
    marker = f"PREFECT_HOME={home / 'serve' / 'prefect'}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if state[0] != "Z":
            found[int(entry.name)] = int(state[2])
    return found


def _reaped(pid: int) -> bool:
    """Neither running nor a zombie child of this process."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists() or procs.alive(pid) is False
    return False


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(2))
def test_eight_concurrent_first_runs_start_one_server_and_serve_stop_leaves_none(
    tmp_path: Path, attempt: int
) -> None:
    # given: a fresh state folder and eight commands released at once
    home = tmp_path / "state"
    port = free_port(0)
    gate, release = os.pipe()
    arrived, ready = os.pipe()
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(home), str(port), str(gate), str(ready)],
            cwd=REPO,
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            pass_fds=(gate, ready),
        )
        for _ in range(8)
    ]
    os.close(gate)
    os.close(ready)
    try:
        # all eight at the gate, however loaded the machine, then released together
        at_gate, deadline = 0, time.monotonic() + 120
        while at_gate < 8 and time.monotonic() < deadline:
            if select.select([arrived], [], [], 0.5)[0]:
                came = os.read(arrived, 8)
                if not came:
                    break  # every starter has died: their errors show below
                at_gate += len(came)
        os.close(arrived)
        os.close(release)
        outcomes = [p.communicate(timeout=300) for p in starters]
        # then: all succeed, on one server, started by exactly one of them
        for proc, (_out, err) in zip(starters, outcomes, strict=True):
            assert proc.returncode == 0, err[-2000:]
        results = [json.loads(out) for out, _ in outcomes]
        assert len({r["url"] for r in results}) == 1
        assert sorted(len(r["began"]) for r in results) == [0] * 7 + [1]
        running = _server_processes(home)
        assert len(set(running.values())) == 1, running  # one server (one process group)
        assert set(running.values()) == {int((home / "serve" / "prefect.pid").read_text())}
    finally:
        for proc in starters:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # when
        stopped = subprocess.run(
            [sys.executable, "-m", "deployments.serve", "stop"],
            cwd=REPO,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
    # then: no server process is left
    assert stopped.returncode == 0, stopped.stderr
    assert "prefect" in stopped.stdout
    assert _server_processes(home) == {}
    assert not (home / "serve" / "servers.json").exists()


def _started_environ(home: Path, tries: int = 3) -> dict[str, str]:
    """The environment of the Prefect server `begin` starts for `home`.

    A process that has already ended shows an empty environment: on a busy machine
    another process can take the free port before the server binds it, and the
    server exits at once. Such a start is undone and tried again on a new port.
    """
    for _ in range(tries):
        served = begin(home, prefect_port=free_port(0), mlflow_port=None)
        try:
            env = _environ(int((home / "serve" / "prefect.pid").read_text()))
        finally:
            undo(served)
        if env:
            return env
    log = (home / "serve" / "prefect.log").read_text(errors="replace")[-2000:]
    raise AssertionError(f"the server ended before it could be read {tries} times: {log}")


def test_a_started_server_gets_no_credentials_of_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a command with AWS credentials and a token in its environment
    home = tmp_path / "state"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SECRET)
    monkeypatch.setenv("PREFECT_API_KEY", SECRET)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", SECRET)
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere.invalid/api")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # when
    env = _started_environ(home)
    # then: what a server needs, and none of the caller's secrets
    assert SECRET not in json.dumps(env)
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert "PREFECT_API_URL" not in env
    assert env["PREFECT_HOME"] == str(home / "serve" / "prefect")
    assert env["PATH"] == os.environ["PATH"]
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_the_allow_list_passes_server_settings_and_drops_credentials() -> None:
    # given
    caller = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": "postgresql+asyncpg://db/prefect",
        "MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "GITHUB_TOKEN": SECRET,
        "PREFECT_API_KEY": SECRET,
        "MLFLOW_TRACKING_PASSWORD": SECRET,
        "MLOPS_TRACKING_URI": "http://tracking",
        "SOMETHING_ELSE": "x",
    }
    # when
    plain = procs.server_env(caller)
    for_s3 = procs.server_env(caller, extra_prefixes=("AWS_",))
    # then
    assert plain == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": "postgresql+asyncpg://db/prefect",
        "MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    # and: an MLflow server proxying artifacts to S3 gets the AWS settings it needs, nothing more
    assert for_s3 == {
        **plain,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def test_stopping_a_just_begun_server_reaps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a server this process began a moment ago (still starting)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    home = tmp_path / "state"
    served = begin(home, prefect_port=free_port(0), mlflow_port=None)
    pid = int((home / "serve" / "prefect.pid").read_text())
    assert served.began == ("prefect",)
    assert procs.alive(pid)
    # when
    undo(served)
    # then: waited for, not left a zombie; nothing of its process group runs
    assert _reaped(pid)
    assert not procs.alive(pid)
    assert _server_processes(home) == {}
    assert not (home / "serve" / "prefect.pid").exists()


def test_serve_stop_from_another_process_ends_a_server_whose_parent_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a server begun by this process, which does not wait on it
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    home = tmp_path / "state"
    start(home, prefect_port=free_port(0), mlflow_port=None, timeout=240)
    pid = int((home / "serve" / "prefect.pid").read_text())
    # when: `make serve-stop` in another process (the server becomes our zombie)
    stopped = subprocess.run(
        [sys.executable, "-m", "deployments.serve", "stop"],
        cwd=REPO,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then: it saw the server end (a zombie is not running) and left nothing behind
    assert stopped.returncode == 0, stopped.stderr
    assert "prefect" in stopped.stdout
    # The kernel finishes a killed process's exit after the stopper has seen it
    # go: this process, its parent, reaps it within moments, not at once.
    deadline = time.monotonic() + 10
    while procs.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not procs.alive(pid)
    assert _server_processes(home) == {}
    assert stop(home) == []  # nothing left to stop


SETTINGS_PROBE = textwrap.dedent(
    """
    import json, os
    from deployments.runtime import local_prefect, platform_settings
    from prefect.settings import get_current_settings

    assert platform_settings() is platform_settings()  # built once per process
    with local_prefect() as settings:
        inside = {
            "tracking_uri": settings.tracking_uri,
            "env": os.environ.get("MLOPS_TRACKING_URI"),
            "api": get_current_settings().api.url,
        }
    after = os.environ.get("MLOPS_TRACKING_URI")
    print(json.dumps({"inside": inside, "after": after}))
    """
)


def test_the_served_tracking_uri_is_passed_down_and_not_left_in_the_environment(
    tmp_path: Path,
) -> None:
    # given: the servers of `make serve` recorded for this home, answering as a Prefect API
    # (`/health` says `true`) and an MLflow API (an experiments search) do
    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"true" if self.path.endswith("/health") else b'{"experiments": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    home = tmp_path / "state"
    (home / "serve").mkdir(parents=True)
    (home / "serve" / "servers.json").write_text(
        json.dumps({"prefect_api_url": f"{url}/api", "mlflow_url": url})
    )
    try:
        # when
        probe = subprocess.run(
            [sys.executable, "-c", SETTINGS_PROBE],
            cwd=tmp_path,
            env=_env(home, MLOPS_WARM_WORKER="false"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
    # then: the settings handed down name the MLflow server; the environment is as it was
    assert probe.returncode == 0, probe.stderr[-2000:]
    result = json.loads(probe.stdout)
    assert result["inside"]["tracking_uri"] == url
    assert result["inside"]["api"] == f"{url}/api"
    assert result["after"] is None


def test_a_bad_config_on_a_fresh_folder_stops_the_server_it_began_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # given: a fresh state folder, in auto mode (the run begins the local server first thing)
    home = tmp_path / "state"
    # when
    result = subprocess.run(
        [sys.executable, "-m", "flows.train", "--set", "model.nope=1"],
        cwd=REPO,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    # then: one line, exit 2, and neither a server nor the folder is left
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip() == "error: config: model.nope: unknown key"
    assert _server_processes(home) == {}
    assert not home.exists()
