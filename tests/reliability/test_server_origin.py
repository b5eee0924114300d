"""The local Prefect server is closed to web pages and to foreign host names (issue 36).

With Prefect's defaults (`access-control-allow-origin: *`) a web page the user
opens could read block documents with `include_secrets: true`; a foreign
`Host` header (DNS rebinding) reached the API too. The platform's local server
answers only its own UI's origin and loopback names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployments.runtime.local_only import LocalOnly, own_origins
from deployments.runtime.servers import free_port, start, stop

SECRETS = {"include_secrets": True, "limit": 5}


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("origin-home")
    served = start(state, prefect_port=free_port(0), mlflow_port=None, timeout=180)
    try:
        yield served.prefect_api_url
    finally:
        stop(state)


def _port(api_url: str) -> str:
    return api_url.rsplit(":", 1)[1].removesuffix("/api")


@pytest.mark.slow
def test_a_foreign_origin_reads_no_block_documents(api_url: str) -> None:
    # given: a page on another site posting to the local API, as a browser would
    headers = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    # when: it asks for block documents with their secrets
    answer = httpx.post(f"{api_url}/block_documents/filter", json=SECRETS, headers=headers)
    # then: refused before any route runs, and nothing tells the browser it may read it
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    assert "block" not in answer.text.lower()


@pytest.mark.slow
def test_a_foreign_host_name_is_refused(api_url: str) -> None:
    # given: a DNS-rebinding page: the loopback address under another host name
    # when: it calls the API
    answer = httpx.get(f"{api_url}/health", headers={"Host": f"rebind.example:{_port(api_url)}"})
    # then: refused
    assert answer.status_code == 400


@pytest.mark.slow
def test_the_servers_own_ui_and_the_clis_still_get_answers(api_url: str) -> None:
    # given: the server's own UI origin, and a client that sends no Origin (CLI, worker)
    own = own_origins(_port(api_url))[0]
    # when: each asks
    from_ui = httpx.post(
        f"{api_url}/block_documents/filter", json={"limit": 1}, headers={"Origin": own}
    )
    preflight = httpx.options(
        f"{api_url}/block_documents/filter",
        headers={"Origin": own, "Access-Control-Request-Method": "POST"},
    )
    from_cli = httpx.get(f"{api_url}/health")
    # then: both are served, and CORS names the own origin, never `*`
    assert from_ui.status_code == 200, from_ui.text
    assert from_ui.headers.get("access-control-allow-origin") == own
    assert preflight.headers.get("access-control-allow-origin") == own
    assert from_cli.status_code == 200


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"host": "127.0.0.1:4242"}, None),
        ({"host": "localhost:4242", "origin": "http://localhost:4242"}, None),
        ({"host": "[::1]:4242"}, None),
        ({"host": "127.0.0.1:4242", "origin": "http://127.0.0.1:9999"}, 403),
        ({"host": "127.0.0.1:4242", "origin": "null"}, 403),
        ({"host": "example.com"}, 400),
        ({"host": "127.0.0.1.nip.io:4242"}, 400),
    ],
)
def test_local_only_decides_by_host_name_and_exact_origin(
    headers: dict[str, str], refused: int | None
) -> None:
    # given: the guard of a server on port 4242
    guard = LocalOnly(app=None, origins=own_origins(4242))  # type: ignore[arg-type]
    # when / then: only loopback names and the server's own origins pass
    decision = guard.refusal(headers)
    assert (decision[0] if decision else None) == refused


def test_cors_setting_is_the_own_origins(tmp_path: Path) -> None:
    # given: the environment the platform starts its Prefect server with
    from deployments.runtime.servers import _prefect_env

    env = _prefect_env(tmp_path, "http://127.0.0.1:4321/api")
    # then: CORS allows the UI's own origins, not every page
    assert env["PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS"] == (
        "http://127.0.0.1:4321,http://localhost:4321"
    )
