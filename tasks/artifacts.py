"""Prefect artifacts on the flow run (not on the task that made them), and a sweep's board.

Prefect attaches an artifact to the task run it is created in, and the UI
shows a task run's artifacts one click deeper than the flow run's. The
summary, link, table and progress artifacts are what a person opens the
flow run for, so they are created with the flow run's id and no task run's.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from prefect.runtime import flow_run

if TYPE_CHECKING:  # a training run imports this module and needs no DOE (statsmodels)
    from libs.doe.runs import Design
    from libs.doe.sweep import PointResult

_log = logging.getLogger(__name__)


def artifact_key(*parts: str) -> str:
    """A valid artifact key (lowercase letters, digits, dashes) from free text."""
    text = "-".join(parts).lower()
    key = "".join(c if c.isalnum() and c.isascii() else "-" for c in text)
    while "--" in key:
        key = key.replace("--", "-")
    return key.strip("-")[:100] or "artifact"


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities as null (the UI's table reads JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _payload(data: Any) -> Any:
    """What Prefect stores: text as it is, a progress as a number, a table as JSON text."""
    return data if isinstance(data, str | int | float) else json.dumps(data)


def flow_run_artifact(kind: str, key: str | None, data: Any, description: str) -> UUID | None:
    """Create an artifact on the current flow run; returns its id (None outside a flow run)."""
    run_id = flow_run.id
    if run_id is None:
        return None
    payload = _payload(data)
    created = get_client(sync_client=True).create_artifact(
        artifact=ArtifactCreate(
            type=kind,
            key=key,
            description=description,
            data=payload,
            flow_run_id=UUID(str(run_id)),
            task_run_id=None,
        )
    )
    return created.id


def update_artifact(artifact_id: UUID, data: Any, description: str | None = None) -> None:
    payload = _payload(data)
    update = (
        ArtifactUpdate(data=payload, description=description)
        if description
        else (ArtifactUpdate(data=payload))
    )
    get_client(sync_client=True).update_artifact(artifact_id=artifact_id, artifact=update)


def markdown_artifact(markdown: str, key: str, description: str) -> UUID | None:
    return flow_run_artifact("markdown", key, markdown, description)


def link_artifact(url: str, text: str, key: str, description: str) -> UUID | None:
    return flow_run_artifact("link", key, f"[{text}]({url})", description)


def table_rows(frame: Any) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


class SweepBoard:
    """A sweep's live view in the Prefect UI: a progress artifact and a results table.

    Both are created when the sweep starts and updated as each point finishes,
    on the sweep's flow run. A failing update is logged, never raised: the
    board must not sink the sweep it reports on.
    """

    EVERY_S = 1.0  # the least time between two updates (the last point always updates)

    def __init__(self, name: str, design: Design, metric: str) -> None:
        self._updated = 0.0
        self.design = design
        self.metric = metric
        self.done: list[PointResult] = []
        self.key = artifact_key(name)
        self.progress_id = self._safely(
            lambda: flow_run_artifact(
                "progress", f"{self.key}-progress", 0.0, self._progress_text()
            )
        )
        self.table_id = self._safely(
            lambda: flow_run_artifact(
                "table", f"{self.key}-results", self._rows(), self._table_text()
            )
        )

    def _safely(self, call: Any) -> Any:
        try:
            return call()
        except Exception as exc:  # the Prefect API failed: the sweep goes on
            _log.warning("sweep artifacts not updated: %s: %s", type(exc).__name__, exc)
            return None

    def _rows(self) -> list[dict[str, Any]]:
        if not self.done:
            return []
        from libs.doe.sweep import results_table

        table = results_table(self.design, self.done, self.metric)
        finished = {r.index for r in self.done}
        return table_rows(table[table["point"].isin(finished)])

    def _progress_text(self) -> str:
        failed = sum(not r.ok for r in self.done)
        return f"{len(self.done)} of {len(self.design)} points done, {failed} failed"

    def _table_text(self) -> str:
        return f"Sweep results on {self.metric}: {self._progress_text()}"

    def point_done(self, result: PointResult) -> None:
        """Record one finished point; update both artifacts at most once a second.

        The last point always updates them. Points that finish within a second
        of the last update wait for the next one: a fast sweep's board costs a
        few API calls, not two per point (the results table grows with each).
        """
        self.done.append(result)
        now = time.monotonic()
        if len(self.done) < len(self.design) and now - self._updated < self.EVERY_S:
            return
        self._updated = now
        share = 100.0 * len(self.done) / max(1, len(self.design))
        if self.progress_id is not None:
            self._safely(lambda: update_artifact(self.progress_id, share, self._progress_text()))
        if self.table_id is not None:
            self._safely(lambda: update_artifact(self.table_id, self._rows(), self._table_text()))


__all__ = [
    "SweepBoard",
    "artifact_key",
    "flow_run_artifact",
    "link_artifact",
    "markdown_artifact",
    "table_rows",
    "update_artifact",
]
