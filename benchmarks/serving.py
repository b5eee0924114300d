"""The scoring server under load across champion switches, against `mlflow models serve`.

    python -m benchmarks.serving [--requests 2000] [--concurrency 8] [--out benchmarks/results]

In a temporary platform home (MLflow on SQLite), three versions of a small
iris model are registered. `python -m flows.serve_model` serves the champion.
`--requests` requests are sent at `--concurrency` while `@champion` moves twice
(v1 -> v2 at a third of the requests, v2 -> v3 at two thirds). Then it counts:

- failed requests (must be 0);
- answers whose `X-Model-Version` is neither the champion when they were
  received nor the one before it (must be 0);
- answers from an older version to a request sent after a newer one had
  already answered (must be 0).

The same number of requests at the same concurrency goes to
`mlflow models serve` of v1 (`--env-manager local`, the venv's own server), and
the p50 and p99 latencies of both are reported. Results go to
`<out>/serving.json` and `<out>/serving.md`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODEL = "bench-served"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _register(uri: str, c: float) -> str:
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris(as_frame=True)
    x, y = data.frame.drop(columns="target"), data.target
    model = LogisticRegression(C=c, max_iter=300).fit(x, y)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-serving")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(x, model.predict(x)),
            input_example=x.head(3),
            pip_requirements=["scikit-learn"],
        )
    client = mlflow.MlflowClient(uri)
    with contextlib.suppress(Exception):
        client.create_registered_model(MODEL)
    return str(client.create_model_version(MODEL, info.model_uri, run_id=run.info.run_id).version)


def _move(uri: str, version: str) -> None:
    from tasks import tracking

    tracking.set_champion(tracking.RunHandle("", "", uri, ""), MODEL, version)


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str], ping: str) -> Iterator[None]:
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(ping, timeout=5) as r:
                if r.status == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[:4]} did not start")
            time.sleep(0.3)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _post(url: str, body: bytes) -> dict[str, Any]:
    sent = time.monotonic()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            r.read()
            status, version = r.status, r.headers.get("X-Model-Version")
    except urllib.error.HTTPError as exc:
        status, version = exc.code, None
    except OSError:
        status, version = -1, None
    received = time.monotonic()
    return {"sent": sent, "received": received, "status": status, "version": version}


def _load(url: str, body: bytes, n: int, concurrency: int, on_count: Any = None) -> list[dict]:
    done: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        result = _post(url, body)
        with lock:
            done.append(result)
            count = len(done)
        if on_count is not None:
            on_count(count)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    return done


def _percentiles(results: list[dict[str, Any]]) -> dict[str, float]:
    latencies = sorted((r["received"] - r["sent"]) * 1000 for r in results)
    q = statistics.quantiles(latencies, n=100)
    return {"p50_ms": round(q[49], 2), "p99_ms": round(q[98], 2)}


def _check(results: list[dict[str, Any]], moves: list[tuple[float, str]]) -> dict[str, int]:
    """Count failures, versions that were not allowed at receipt, and answers going back."""

    def champion_at(t: float) -> tuple[str, str | None]:
        current, before = moves[0][1], None
        for at, version in moves[1:]:
            if at <= t:
                current, before = version, current
        return current, before

    failed = sum(r["status"] != 200 for r in results)
    wrong = sum(r["version"] not in champion_at(r["received"]) for r in results if r["version"])
    first_answer: dict[str, float] = {}
    for r in results:
        if r["version"]:
            first_answer[r["version"]] = min(first_answer.get(r["version"], 1e18), r["received"])
    backwards = sum(
        1
        for r in results
        if r["version"]
        and any(int(v) > int(r["version"]) and t < r["sent"] for v, t in first_answer.items())
    )
    return {"failed": failed, "version_not_champion": wrong, "older_after_newer": backwards}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    from sklearn.datasets import load_iris

    rows = load_iris(as_frame=True).frame.drop(columns="target").head(5)
    body_bytes = json.dumps(
        {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}}
    ).encode()
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        home = Path(tmp) / "home"
        uri = f"sqlite:///{home / 'mlflow.db'}"
        home.mkdir(parents=True)
        versions = [_register(uri, c) for c in (1.0, 0.5, 0.1)]
        _move(uri, versions[0])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
        env.update(
            MLOPS_HOME=str(home),
            PYTHONPATH=str(REPO),
            MLFLOW_TRACKING_URI=uri,
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        )
        ours = _port()
        moves: list[tuple[float, str]] = [(0.0, versions[0])]
        thresholds = {args.requests // 3: versions[1], 2 * args.requests // 3: versions[2]}

        def maybe_move(count: int) -> None:
            if count in thresholds:
                version = thresholds[count]
                _move(uri, version)
                moves.append((time.monotonic(), version))

        serve = [
            sys.executable,
            "-m",
            "flows.serve_model",
            "--model",
            MODEL,
            "--port",
            str(ours),
            "--poll-seconds",
            "0.5",
            "--log-rate",
            "0.1",
        ]
        with _process(serve, env, f"http://127.0.0.1:{ours}/ping"):
            _load(f"http://127.0.0.1:{ours}/invocations", body_bytes, 50, args.concurrency)
            started = time.monotonic()
            results = _load(
                f"http://127.0.0.1:{ours}/invocations",
                body_bytes,
                args.requests,
                args.concurrency,
                maybe_move,
            )
            ours_seconds = time.monotonic() - started
        theirs = _port()
        mlflow_serve = [
            str(Path(sys.executable).parent / "mlflow"),
            "models",
            "serve",
            "-m",
            f"models:/{MODEL}/{versions[0]}",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(theirs),
        ]
        with _process(mlflow_serve, env, f"http://127.0.0.1:{theirs}/ping"):
            _load(f"http://127.0.0.1:{theirs}/invocations", body_bytes, 50, args.concurrency)
            started = time.monotonic()
            baseline = _load(
                f"http://127.0.0.1:{theirs}/invocations",
                body_bytes,
                args.requests,
                args.concurrency,
            )
            theirs_seconds = time.monotonic() - started
    checks = _check(results, moves)
    served = {v: sum(r["version"] == v for r in results) for v in versions}
    report = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "switches": len(moves) - 1,
        **checks,
        "answers_per_version": served,
        "serve_model": {**_percentiles(results), "seconds": round(ours_seconds, 2)},
        "mlflow_models_serve": {
            **_percentiles(baseline),
            "seconds": round(theirs_seconds, 2),
            "failed": sum(r["status"] != 200 for r in baseline),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving.json").write_text(json.dumps(report, indent=2) + "\n")
    ok = not any(checks.values())
    lines = [
        "# Serving: the champion under load across two switches",
        "",
        f"{args.requests} requests at concurrency {args.concurrency}, 5 rows each, "
        f"{len(moves) - 1} champion switches; answers per version: {served}.",
        "",
        "| server | p50 ms | p99 ms | total s | failed |",
        "|---|---|---|---|---|",
        f"| python -m flows.serve_model | {report['serve_model']['p50_ms']} | "
        f"{report['serve_model']['p99_ms']} | {report['serve_model']['seconds']} | "
        f"{checks['failed']} |",
        f"| mlflow models serve | {report['mlflow_models_serve']['p50_ms']} | "
        f"{report['mlflow_models_serve']['p99_ms']} | {report['mlflow_models_serve']['seconds']}"
        f" | {report['mlflow_models_serve']['failed']} |",
        "",
        f"Version headers not the champion (or the one before) at receipt: "
        f"{checks['version_not_champion']}; older answers after a newer one: "
        f"{checks['older_after_newer']}. {'PASS' if ok else 'FAIL'}",
        "",
    ]
    (args.out / "serving.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
