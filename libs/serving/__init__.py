"""Online scoring as values: the served-model slot, request parsing, smoke checks, and the
sampled request log. No MLflow and no web framework here: the server wires them."""

from libs.serving.health import serving_problem
from libs.serving.payload import RequestError, parse_request, predictions_json
from libs.serving.request_log import RequestLog, request_log_uri
from libs.serving.slot import ModelSlot, ServedModel
from libs.serving.smoke import SmokeTestError, smoke_test

__all__ = [
    "ModelSlot",
    "RequestError",
    "RequestLog",
    "ServedModel",
    "SmokeTestError",
    "parse_request",
    "predictions_json",
    "request_log_uri",
    "serving_problem",
    "smoke_test",
]
