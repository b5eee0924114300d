"""Whether the tracking server still answers, and a sweep's memory of finding it dead.

MLflow's client retries a refused connection with back-off on every call (about 7 s
with the platform's settings, `_client`): a sweep whose tracking server was killed
would wait that out for every call of every point, and again for each cleanup call
(tags, the FAILED status). One probe of the server's `/health` (one try, 2 s) tells
a dead server from a point that failed on its own; once found dead, the sweep
starts no further point and skips the cleanup calls that could not reach it.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

PROBE_TIMEOUT_SECONDS = 2.0


class TrackingServerDown(Exception):
    """The tracking server stopped answering during a sweep; the points left were not run."""


def tracking_answers(tracking_uri: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether the tracking server at `tracking_uri` answers at all (one try, no retry).

    Any HTTP answer counts, an error status or a refused login included: only a
    connection that fails or times out means dead. A database store has no server
    to lose: True.
    """
    if not tracking_uri.startswith(("http://", "https://")):
        return True
    try:
        with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):  # refused, reset, timed out, unreachable
        return False


# Sweeps (by parent run id) whose tracking server was found dead, and the line saying so.
_dead: dict[str, str] = {}
_lock = threading.Lock()


def tracking_down(parent_run_id: str) -> str | None:
    """Why the sweep of `parent_run_id` starts no further point (None: it goes on)."""
    with _lock:
        return _dead.get(parent_run_id)


def check_tracking(tracking_uri: str, parent_run_id: str) -> str | None:
    """After a point failed: probe the tracking server once; when it does not answer,
    remember it for the sweep and return the line that says so (None: it answers)."""
    if tracking_down(parent_run_id) is not None:
        return tracking_down(parent_run_id)
    if tracking_answers(tracking_uri):
        return None
    line = (
        f"the MLflow tracking server at {tracking_uri} stopped answering (connection refused "
        "or timed out)"
    )
    with _lock:
        return _dead.setdefault(parent_run_id, line)


def take_tracking_down(parent_run_id: str) -> str | None:
    """What `check_tracking` found for the sweep of `parent_run_id`, forgotten as it is
    read: a retried flow run resumes the same parent run and must start afresh."""
    with _lock:
        return _dead.pop(parent_run_id, None)


__all__ = [
    "TrackingServerDown",
    "check_tracking",
    "take_tracking_down",
    "tracking_answers",
    "tracking_down",
]
