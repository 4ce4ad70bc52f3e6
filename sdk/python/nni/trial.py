"""Trial API (NNI 2.x ``nni.trial``) over Quader's trial endpoints.

In a Quader trial the environment holds:

- ``QUADER_API_URL``      the server, e.g. ``http://127.0.0.1:8080``
- ``QUADER_TRIAL_TOKEN``  this trial's secret (sent as ``Authorization: Bearer ...``)
- ``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``, ``NNI_TRIAL_SEQ_ID``, ``NNI_OUTPUT_DIR``

and the module uses

- ``GET  /api/v1/trial/parameters`` once (the result is cached), and
- ``POST /api/v1/trial/metrics`` with ``{"type": "PERIODICAL"|"FINAL", "value": number}``.

Connection errors, timeouts and 502/503/504 answers are retried with exponential backoff
(``QUADER_API_RETRIES`` attempts, default 5; first wait ``QUADER_API_BACKOFF`` seconds,
default 0.5). Any other error answer raises :class:`TrialApiError` with the server's message.

Without ``QUADER_API_URL`` the module is standalone, like NNI outside an experiment:
``get_next_parameter()`` warns on stderr and returns an empty dict, results are printed to
stdout, the ids are ``"STANDALONE"`` and ``0``.
"""

import json
import math
import numbers
import os
import sys
import time
import urllib.error
import urllib.request

__all__ = [
    "TrialApiError",
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
]

_PARAMETERS_PATH = "/api/v1/trial/parameters"
_METRICS_PATH = "/api/v1/trial/metrics"
_RETRY_STATUSES = (502, 503, 504)
_TIMEOUT_S = 30

_params = None            # the parameters response, once fetched (cached for the trial)
_intermediate_seq = 0     # index of the next intermediate result


class TrialApiError(RuntimeError):
    """The Quader trial API refused a request (or could not be reached).

    ``status`` is the HTTP status (None when the server could not be reached), ``code``
    and ``message`` come from the server's ``{"error": {"code", "message"}}`` body.
    """

    def __init__(self, text, status=None, code="", message=""):
        super().__init__(text)
        self.status = status
        self.code = code
        self.message = message


# ---- environment --------------------------------------------------------------------------

def _api_url():
    return os.environ.get("QUADER_API_URL", "").strip().rstrip("/")


def _standalone():
    return not _api_url()


def _env_number(name, default, kind):
    try:
        return kind(os.environ.get(name, default))
    except ValueError:
        return default


# ---- HTTP ---------------------------------------------------------------------------------

# The trial API is the platform's own server: never go through an HTTP proxy for it.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(method, path, body=None):
    """JSON request to the trial API; returns the decoded JSON answer (or None)."""
    url = _api_url() + path
    token = os.environ.get("QUADER_TRIAL_TOKEN", "")
    if not token:
        raise TrialApiError("QUADER_API_URL is set but QUADER_TRIAL_TOKEN is not: "
                            "the nni module cannot authenticate to the Quader trial API")
    data = None if body is None else json.dumps(body).encode("utf-8")
    attempts = max(1, _env_number("QUADER_API_RETRIES", 5, int))
    delay = max(0.0, _env_number("QUADER_API_BACKOFF", 0.5, float))
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(delay)
            delay *= 2
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", "Bearer " + token)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _opener.open(request, timeout=_TIMEOUT_S) as response:
                raw = response.read()
            return json.loads(raw.decode("utf-8")) if raw.strip() else None
        except urllib.error.HTTPError as err:
            error = _http_error(method, path, err)
            if err.code not in _RETRY_STATUSES:
                raise error from None
            last = error
        except (urllib.error.URLError, OSError) as err:   # refused, reset, timeout, DNS
            reason = getattr(err, "reason", err)
            last = TrialApiError("nni: cannot reach the Quader trial API at %s (%s %s): %s"
                                 % (_api_url(), method, path, reason))
        except ValueError as err:                          # not JSON
            raise TrialApiError("nni: %s %s: the Quader trial API answered something that "
                                "is not JSON: %s" % (method, path, err)) from None
    raise TrialApiError("%s (gave up after %d attempts)" % (last, attempts),
                        status=last.status, code=last.code, message=last.message)


def _http_error(method, path, err):
    """TrialApiError for an HTTP error answer, naming the server's message."""
    try:
        text = err.read().decode("utf-8", "replace")
    except Exception:  # pragma: no cover - broken connection while reading the body
        text = ""
    code, message = "", text.strip()
    try:
        detail = json.loads(text)["error"]
        code = str(detail.get("code", ""))
        message = str(detail.get("message", ""))
    except Exception:
        pass
    hint = ""
    if err.code == 401:
        hint = " (the trial token is wrong or expired: a trial's token stops working when the trial ends)"
    summary = "nni: Quader trial API %s %s -> %d %s: %s%s" % (
        method, path, err.code, code or err.reason, message or "(no message)", hint)
    return TrialApiError(summary, status=err.code, code=code, message=message)


# ---- metrics ------------------------------------------------------------------------------

def _metric_value(metric):
    """The number a metric stands for: a number, or a dict's objective number.

    The objective is the experiment's ``objective_metric`` (``QUADER_OBJECTIVE_METRIC``,
    cube-studio's ``objective_metric_name``) when the dict has that key, else ``"default"``.
    """
    if isinstance(metric, dict):
        key = os.environ.get("QUADER_OBJECTIVE_METRIC") or "default"
        if key not in metric:
            key = "default"
        if key not in metric:
            raise ValueError("nni: a dict metric needs the key \"default\" (or the experiment's "
                             "objective_metric) holding the number the tuner optimises; got keys %s"
                             % sorted(map(str, metric)))
        return _number(metric[key], 'the metric\'s "%s"' % key)
    return _number(metric, "a metric")


def _number(value, what):
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError("nni: %s must be a number (or a dict with a numeric \"default\"), "
                        "not %s %r" % (what, type(value).__name__, value))
    if isinstance(value, numbers.Integral):
        return int(value)
    try:  # float, numpy scalars, 0-d arrays and tensors
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError("nni: %s must be a number (or a dict with a numeric \"default\"), "
                        "not %s %r" % (what, type(value).__name__, value)) from None
    if not math.isfinite(number):
        raise ValueError("nni: %s must be a finite number, not %r" % (what, number))
    return number


def _send_metric(kind, value):
    _request("POST", _METRICS_PATH, {"type": kind, "value": value})


# ---- public API ---------------------------------------------------------------------------

def get_next_parameter():
    """This trial's hyper-parameters (a dict) from the tuner.

    Fetched from the server on the first call and cached: later calls return the same dict.
    Standalone (no ``QUADER_API_URL``): warns on stderr and returns ``{}``, as NNI does.
    """
    global _params
    if _params is None:
        if _standalone():
            sys.stderr.write("[nni] WARNING: Requesting parameter without NNI framework "
                             "(QUADER_API_URL is not set), returning empty dict\n")
            sys.stderr.flush()
            _params = {"parameter_id": None, "parameters": {}}
        else:
            answer = _request("GET", _PARAMETERS_PATH)
            if not isinstance(answer, dict) or not isinstance(answer.get("parameters"), dict):
                raise TrialApiError("nni: GET %s: unexpected answer %r" % (_PARAMETERS_PATH, answer))
            _params = answer
    return _params["parameters"]


def get_current_parameter(tag=None):
    """The parameters fetched by ``get_next_parameter()`` (None before it), or one of them."""
    if _params is None:
        return None
    if tag is None:
        return _params["parameters"]
    return _params["parameters"][tag]


def report_intermediate_result(metric):
    """Report a periodical result (e.g. an epoch's validation accuracy).

    ``metric`` is a number, or a dict whose ``"default"`` is the number (other keys are
    not sent).
    """
    global _intermediate_seq
    value = _metric_value(metric)
    if _standalone():
        print("Intermediate result: %s  (Index %d)" % (value, _intermediate_seq), flush=True)
    else:
        _send_metric("PERIODICAL", value)
    _intermediate_seq += 1


def report_final_result(metric):
    """Report the trial's final result (once: the server refuses a second one)."""
    value = _metric_value(metric)
    if _standalone():
        print("Final result: %s" % (value,), flush=True)
    else:
        _send_metric("FINAL", value)


def get_experiment_id():
    """The experiment's key (``NNI_EXP_ID``); ``"STANDALONE"`` outside an experiment."""
    if _standalone():
        return "STANDALONE"
    return os.environ.get("NNI_EXP_ID") or _from_parameters("experiment_id", "")


def get_trial_id():
    """This trial's id (``NNI_TRIAL_JOB_ID``); ``"STANDALONE"`` outside an experiment."""
    if _standalone():
        return "STANDALONE"
    return os.environ.get("NNI_TRIAL_JOB_ID") or _from_parameters("trial_id", "")


def get_sequence_id():
    """This trial's sequence number in the experiment (``NNI_TRIAL_SEQ_ID``); 0 standalone."""
    if _standalone():
        return 0
    seq = os.environ.get("NNI_TRIAL_SEQ_ID")
    if seq not in (None, ""):
        try:
            return int(seq)
        except ValueError:
            pass
    return int(_from_parameters("sequence_id", 0))


def _from_parameters(key, default):
    if _params is None:
        get_next_parameter()
    value = _params.get(key)
    return default if value is None else value
