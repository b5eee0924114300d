"""libs.serving and the scoring server's follower: parsing, smoke tests, the slot, the
request log, and switching versions, on small frames with real scikit-learn models.

The follower is given its registry as three plain functions over a dict (the
adapter the server is built with), so switching is checked without MLflow.
"""

from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

with warnings.catch_warnings():  # starlette's notice about its httpx-based client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from deployments.serving import ChampionFollower, Registry, create_app
from libs.scoring import ColumnSpec
from libs.serving import (
    ModelSlot,
    RequestError,
    RequestLog,
    ServedModel,
    SmokeTestError,
    parse_request,
    predictions_json,
    request_log_uri,
    smoke_test,
)

COLUMNS = (ColumnSpec("age", "double"), ColumnSpec("bmi", "double"))
FRAME = pd.DataFrame({"age": [1.0, 2.0, 3.0], "bmi": [0.5, 0.1, 0.9]})


def _served(version: str, *, model: object | None = None, example: object = FRAME) -> ServedModel:
    fitted = LinearRegression().fit(FRAME, [1.0, 2.0, 3.0]) if model is None else model
    return ServedModel("m", version, fitted, COLUMNS, input_example=example)


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_every_protocol_shape_parses_to_the_same_frame() -> None:
    # given: the four JSON shapes and CSV of mlflow models serve
    split = {"dataframe_split": {"columns": ["age", "bmi"], "data": [[1, 0.5], [2, 0.1]]}}
    records = {"dataframe_records": [{"age": 1, "bmi": 0.5}, {"age": 2, "bmi": 0.1}]}
    instances = {"instances": [[1, 0.5], [2, 0.1]]}
    inputs = {"inputs": {"age": [1, 2], "bmi": [0.5, 0.1]}}
    # when
    frames = [
        parse_request(_body(p), "application/json", COLUMNS)
        for p in (split, records, instances, inputs)
    ]
    frames.append(parse_request(b"bmi,age\n0.5,1\n0.1,2\n", "text/csv", COLUMNS))
    # then: columns in the signature's order, integers cast to the double inputs
    for frame in frames:
        assert list(frame.columns) == ["age", "bmi"]
        assert frame["age"].dtype == np.float64
        assert frame["age"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"dataframe_records": [{"age": 1}]}, "bmi"),
        ({"dataframe_records": [{"age": "old", "bmi": 1}]}, "age (expected double"),
        ({"instances": [[1, 2, 3]]}, "in the order age, bmi"),
        ({"rows": []}, "dataframe_split"),
        ({"dataframe_records": []}, "no rows"),
    ],
)
def test_a_request_that_does_not_fit_names_what_is_wrong(body: object, named: str) -> None:
    # when / then
    with pytest.raises(RequestError, match=named.replace("(", r"\(")):
        parse_request(_body(body), "application/json", COLUMNS)


def test_other_bodies_are_refused_in_one_line() -> None:
    with pytest.raises(RequestError, match="not JSON"):
        parse_request(b"{oops", "application/json", COLUMNS)
    with pytest.raises(RequestError, match="content type 'text/plain'"):
        parse_request(b"x", "text/plain", COLUMNS)


def test_predictions_come_back_as_json_values() -> None:
    assert predictions_json(np.array([1.5, np.nan])) == {"predictions": [1.5, None]}
    assert predictions_json(pd.Series(["a", "b"])) == {"predictions": ["a", "b"]}
    assert predictions_json(pd.DataFrame({"p": [1]})) == {"predictions": [{"p": 1}]}


class _Constant:
    def __init__(self, value: object) -> None:
        self.value = value

    def predict(self, frame: pd.DataFrame) -> object:
        return self.value


def test_smoke_test_passes_a_working_model_and_names_each_failure() -> None:
    # given / when / then
    assert len(smoke_test(_served("1"))) == 3
    failures = {
        "no input example": _served("2", example=None),
        "1 predictions for 3": _served("3", model=_Constant(np.array([1.0]))),
        "NaN": _served("4", model=_Constant(np.array([1.0, np.nan, 2.0]))),
        "predict failed": _served("5", model=LinearRegression()),  # never fitted
        "missing columns: bmi": _served("6", example=FRAME[["age"]]),
    }
    for reason, served in failures.items():
        with pytest.raises(SmokeTestError, match=reason):
            smoke_test(served)


def test_the_slot_swaps_whole_and_a_held_reference_keeps_its_version() -> None:
    # given
    slot = ModelSlot(_served("1"))
    held = slot.current
    # when
    old = slot.swap(_served("2"))
    # then
    assert old is held and held.version == "1"
    assert slot.current.version == "2" and slot.history == ["1", "2"]


def test_the_request_log_writes_sampled_rows_as_parquet_off_the_caller(tmp_path: Path) -> None:
    # given
    root = request_log_uri(str(tmp_path), "my model")
    log = RequestLog(root, rate=1.0, batch_rows=4, batch_seconds=60).start()
    # when: two requests of three rows fill a batch (four rows), the rest waits for close
    log.offer(FRAME, np.array([1.0, 2.0, 3.0]), "7")
    log.offer(FRAME, np.array([4.0, 5.0, 6.0]), "7")
    log.close()
    # then
    files = sorted(Path(root).rglob("*.parquet"))
    assert files and all(f.parent.name.startswith("date=") for f in files)
    assert Path(root).name == "my_model"
    rows = pd.concat(pd.read_parquet(f) for f in files)
    assert rows["prediction"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert set(rows["model_version"]) == {"7"} and "received_at" in rows
    assert log.written_rows == 6 and log.dropped == 0


def test_a_zero_rate_logs_nothing_and_a_bad_rate_is_refused(tmp_path: Path) -> None:
    log = RequestLog(str(tmp_path / "r"), rate=0.0).start()
    log.offer(FRAME, np.zeros(3), "1")
    log.close()
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="rate"):
        RequestLog(str(tmp_path / "r"), rate=1.5)


def _follower(models: dict[str, ServedModel], alias: dict[str, str]) -> ChampionFollower:
    rejected: dict[str, str] = {}
    announced: list[tuple[str, str, str]] = []
    registry = Registry(
        champion_version=lambda: alias.get("champion"),
        load=lambda version: models[version],
        reject=lambda version, why: rejected.__setitem__(version, why),
        announce=lambda version, served, why: announced.append((version, served, why)),
    )
    follower = ChampionFollower(ModelSlot(models["1"]), registry, poll_seconds=60)
    follower.tagged = rejected  # type: ignore[attr-defined]
    follower.announced = announced  # type: ignore[attr-defined]
    return follower


def test_the_follower_switches_only_to_a_version_that_passes() -> None:
    # given: v1 served, v2 good, v3 broken
    models = {"1": _served("1"), "2": _served("2"), "3": _served("3", model=LinearRegression())}
    alias = {"champion": "1"}
    follower = _follower(models, alias)
    # when / then: no move, nothing happens
    assert follower.check()["switched"] is False
    # a move to a broken version keeps v1 and records why
    alias["champion"] = "3"
    state = follower.check()
    assert state["version"] == "1" and "NotFittedError" in state["rejected"]["3"]
    assert "NotFittedError" in follower.tagged["3"]  # type: ignore[attr-defined]
    # and announced once (the event), naming the version still served
    assert follower.announced == [("3", "1", state["rejected"]["3"])]  # type: ignore[attr-defined]
    assert follower.check()["switched"] is False  # the alias still on v3: not announced again
    assert len(follower.announced) == 1  # type: ignore[attr-defined]
    # a move to a good version switches
    alias["champion"] = "2"
    assert follower.check() == {
        "version": "2",
        "switched": True,
        "rejected": {"3": state["rejected"]["3"]},
        "error": None,
    }


def test_the_app_names_the_version_on_every_answer_and_400s_bad_input() -> None:
    # given
    models = {"1": _served("1"), "2": _served("2")}
    alias = {"champion": "1"}
    follower = _follower(models, alias)
    app = create_app(follower.slot, follower)
    records = {"dataframe_records": FRAME.to_dict("records")}
    with TestClient(app) as client:
        # when
        ok = client.post("/invocations", json=records)
        bad = client.post("/invocations", json={"dataframe_records": [{"age": 1}]})
        alias["champion"] = "2"
        reloaded = client.post("/reload")
        after = client.post("/invocations", json=records)
        version = client.get("/version").json()
        health = client.get("/health")
    # then
    assert ok.status_code == 200 and ok.headers["x-model-version"] == "1"
    assert len(ok.json()["predictions"]) == 3
    assert bad.status_code == 400 and "bmi" in bad.json()["message"]
    assert bad.headers["x-model-version"] == "1"
    assert reloaded.json()["switched"] is True
    assert after.headers["x-model-version"] == "2"
    assert version["served"] == ["1", "2"] and version["model"] == "m"
    assert health.status_code == 200 and health.headers["x-model-version"] == "2"


def test_requests_in_flight_during_a_swap_all_succeed() -> None:
    # given: four threads scoring while the version switches back and forth
    models = {"1": _served("1"), "2": _served("2")}
    alias = {"champion": "1"}
    follower = _follower(models, alias)
    app = create_app(follower.slot, follower)
    results: list[tuple[int, str]] = []
    records = {"dataframe_records": FRAME.to_dict("records")}
    with TestClient(app) as client:

        def score() -> None:
            for _ in range(25):
                r = client.post("/invocations", json=records)
                results.append((r.status_code, r.headers["x-model-version"]))

        threads = [threading.Thread(target=score) for _ in range(4)]
        for t in threads:
            t.start()
        for target in ("2", "1", "2"):
            alias["champion"] = target
            follower.check()
        for t in threads:
            t.join()
    # then
    assert len(results) == 100 and {s for s, _ in results} == {200}
    assert {v for _, v in results} <= {"1", "2"}


def test_list_files_finds_the_day_folders_files_in_order(tmp_path: Path) -> None:
    # given
    from libs.io.listing import list_files

    for name in ("date=2026-01-02/b.parquet", "date=2026-01-01/a.parquet", "x/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    # when / then
    assert [Path(f).name for f in list_files(str(tmp_path), ".parquet")] == [
        "a.parquet",
        "b.parquet",
    ]
    assert list_files(str(tmp_path / "absent"), ".parquet") == []


def _delivery(secret: str, payload: dict, *, age: int = 0) -> tuple[dict[str, str], bytes]:
    """Headers and body exactly as MLflow's webhook delivery signs them."""
    import time
    import uuid

    from mlflow.webhooks.delivery import _generate_hmac_signature

    body = json.dumps(payload)
    delivery, stamp = str(uuid.uuid4()), str(int(time.time()) - age)
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery, stamp, body),
    }
    return headers, body.encode()


def test_a_signed_alias_webhook_switches_at_once_and_a_forged_one_is_refused() -> None:
    # given: webhooks on, v2 made champion in the registry
    models = {"1": _served("1"), "2": _served("2")}
    alias = {"champion": "1"}
    follower = _follower(models, alias)
    app = create_app(follower.slot, follower, webhook_secret="s3cret")
    move = {
        "entity": "model_version_alias",
        "action": "created",
        "data": {"name": "m", "alias": "champion", "version": "2"},
    }
    alias["champion"] = "2"
    with TestClient(app) as client:
        # when
        forged = client.post(
            "/webhooks/mlflow",
            content=_delivery("guess", move)[1],
            headers=_delivery("guess", move)[0],
        )
        stale = client.post(
            "/webhooks/mlflow",
            content=_delivery("s3cret", move, age=900)[1],
            headers=_delivery("s3cret", move, age=900)[0],
        )
        other = {**move, "data": {**move["data"], "alias": "staging"}}
        ignored = client.post(
            "/webhooks/mlflow",
            content=_delivery("s3cret", other)[1],
            headers=_delivery("s3cret", other)[0],
        )
        served_before = client.get("/version").json()["version"]
        headers, body = _delivery("s3cret", move)
        moved = client.post("/webhooks/mlflow", content=body, headers=headers)
    # then
    assert forged.status_code == 401 and "does not match" in forged.json()["message"]
    assert stale.status_code == 401 and "within" in stale.json()["message"]
    assert ignored.json() == {"ignored": True} and served_before == "1"
    assert moved.status_code == 200 and moved.json()["switched"] is True
    assert moved.headers["x-model-version"] == "2"


def test_webhooks_are_off_without_a_secret() -> None:
    follower = _follower({"1": _served("1")}, {"champion": "1"})
    with TestClient(create_app(follower.slot, follower)) as client:
        assert client.post("/webhooks/mlflow", content=b"{}").status_code == 404
