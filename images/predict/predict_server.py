#!/usr/bin/python3
"""A small HTTP predict server for a scikit-learn or XGBoost model saved with joblib, or a
PyTorch model saved as TorchScript (torch.jit.save; needs torch: quader/predict-torch:1).

Quader's inference services start it with (docs/model-serving.md):
  KUBEFLOW_MODEL_PATH   the model: a .joblib or .pt file, or a directory holding model.joblib or
                        model.pt (or one such file)
  KUBEFLOW_MODEL_NAME   the model's name (shown in /health; the NAME in /v1/models/NAME)
  KUBEFLOW_MODEL_VERSION
  QUADER_MODEL_REF      the model registry's version it serves, NAME@VERSION (shown in /health)
  PORT                  the port to listen on (default 80)
  LISTEN_HOST           the address to listen on (default 0.0.0.0)
--model, --port and --host override them, for running it by hand.

  GET  /                         what this server is (JSON)
  GET  /health                   200 {"status": "ok", ...} once the model is loaded, else 503
  POST /predict                  {"instances": [[f1, f2, ...], ...]} -> {"predictions": [...]}
  POST /v1/models/NAME:predict   the same (TF Serving's path)
  GET  /v1/models/NAME           TF Serving's model status

Rows are lists of numbers, or objects keyed by feature name when the model was fitted on
named columns; {"inputs": ...} is accepted for "instances", and also as columns
({"inputs": {"feature": [v1, v2, ...], ...}}). The answer adds "probabilities" and
"classes" when the model has predict_proba. A TorchScript model gets the rows as one float32
tensor: one output column is the prediction; several are class scores, whose argmax is the
prediction and whose softmax the probabilities. Bad input is a 400 whose "error" names the
problem. A missing model file is waited for (503 until it appears); a model file that is
replaced is loaded again, the old one serving until the new one loads. One log line per
request on stdout, except health checks that answer as the previous one did.
"""
import argparse
import http.server
import json
import math
import os
import signal
import sys
import threading
import time
import warnings

import joblib
import numpy as np

MAX_BODY = 16 << 20  # bytes
POLL_SECONDS = 2.0

# Rows arrive as plain lists, in the order of the model's columns (checked in rows_of);
# scikit-learn would warn on every request that they carry no column names. Set once
# here: warnings.catch_warnings() per request is not thread-safe.
warnings.filterwarnings("ignore", message="X does not have valid feature names")


_log_lock = threading.Lock()


def log(msg):
    line = time.strftime("%Y-%m-%dT%H:%M:%S") + " " + msg + "\n"
    with _log_lock:  # whole lines, whichever threads log at once
        sys.stdout.write(line)
        sys.stdout.flush()


class BadRequest(Exception):
    """Input the client must fix: answered with 400 and this message."""


TORCH_SUFFIXES = (".pt", ".pth")


def model_file(path):
    """The model file `path` names: itself, or DIR/model.joblib (model.pt), or DIR's only such file."""
    if not os.path.isdir(path):
        return path
    for name in ("model.joblib", "model.pt"):
        candidate = os.path.join(path, name)
        if os.path.exists(candidate):
            return candidate
    found = sorted(f for f in os.listdir(path) if f.endswith((".joblib",) + TORCH_SUFFIXES))
    return os.path.join(path, found[0]) if len(found) == 1 else os.path.join(path, "model.joblib")


class TorchModel:
    """A TorchScript module with the predict()/predict_proba() of a scikit-learn model."""

    def __init__(self, file):
        import torch  # only for PyTorch models: it takes seconds to import
        torch.set_num_threads(1)
        self.torch = torch
        self.module = torch.jit.load(file, map_location="cpu").eval()

    def outputs(self, x):
        with self.torch.no_grad():
            out = self.module(self.torch.as_tensor(np.asarray(x, dtype=np.float32)))
        return np.asarray(out.detach().cpu().numpy(), dtype=float)

    def predict(self, x):
        out = self.outputs(x)
        if out.ndim == 2 and out.shape[1] > 1:
            return out.argmax(axis=1)
        return out.reshape(len(out), -1)[:, 0] if out.ndim > 1 else out

    def predict_proba(self, x):
        out = self.outputs(x)
        if out.ndim != 2 or out.shape[1] < 2:
            raise AttributeError("one output: no class scores")
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def load_model(file):
    if file.endswith(TORCH_SUFFIXES):
        return TorchModel(file)
    return joblib.load(file)


def signature(path):
    """What changes when the file is replaced or rewritten; None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class ModelHolder:
    """The loaded model, swapped whole when the file changes. Thread-safe."""

    def __init__(self, path, name, version):
        self.path, self.name, self.version = path, name, version
        self._lock = threading.Lock()
        self._model = None  # guarded by _lock
        self._info = {}  # guarded by _lock
        self._problem = "not loaded yet"  # guarded by _lock
        self._tried = None  # the signature last tried (watcher thread only)

    def get(self):
        with self._lock:
            return self._model, self._info, self._problem

    def try_load(self, again=False):
        """Loads the file if it is new or changed (or `again`). Returns None, or why it could not."""
        file = model_file(self.path)
        sig = signature(file)
        if sig is None:
            problem = f"waiting for the model file {file}"
            with self._lock:
                if self._model is None:  # once loaded, a model serves on without its file
                    self._problem = problem
            return problem
        if sig == self._tried and not again:
            return None
        self._tried = sig
        try:
            model = load_model(file)
        except Exception as e:  # a broken or half-written file: keep what we have
            return f"cannot load {file}: {type(e).__name__}: {e}"
        if not hasattr(model, "predict"):
            return f"{file} holds a {type(model).__name__}, which has no predict()"
        info = describe(model, file)
        with self._lock:
            first = self._model is None
            self._model, self._info, self._problem = model, info, None
        log(f"{'loaded' if first else 'reloaded'} {file}: {info['type']}, "
            f"{info.get('n_features', '?')} features, classes {info.get('classes', '-')}")
        return None


def describe(model, file):
    info = {"file": file, "type": type(model).__name__}
    n = getattr(model, "n_features_in_", None)
    if n is not None:
        info["n_features"] = int(n)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        info["feature_names"] = [str(x) for x in names]
    classes = getattr(model, "classes_", None)
    if classes is not None:
        info["classes"] = jsonable(classes)
    info["predict_proba"] = has_proba(model)
    return info


def has_proba(model):
    try:
        return callable(getattr(model, "predict_proba"))
    except AttributeError:  # scikit-learn's available_if raises it (SVC without probability)
        return False


def jsonable(values):
    """numpy values and arrays as plain JSON values."""
    if isinstance(values, np.ndarray):
        return [jsonable(v) for v in values.tolist()] if values.dtype == object else values.tolist()
    if isinstance(values, (list, tuple)):
        return [jsonable(v) for v in values]
    if isinstance(values, np.generic):
        return values.item()
    return values


def number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{where} must be a number, got {json.dumps(value)}")
    try:
        value = float(value)
    except OverflowError:
        raise BadRequest(f"{where} is too large")
    if not math.isfinite(value):
        raise BadRequest(f"{where} must be a finite number")
    return value


def no_constant(name):
    raise BadRequest(f"{name} is not a number JSON allows")


def rows_of(body, info):
    """The request's instances as a 2-D float array; BadRequest naming what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object such as {"instances": [[1.0, 2.0], ...]}')
    key = "instances" if "instances" in body else "inputs" if "inputs" in body else None
    if key is None:
        raise BadRequest('the body has no "instances" (or "inputs"): '
                         'send {"instances": [[f1, f2, ...], ...]}')
    data = body[key]
    names = info.get("feature_names")
    n = info.get("n_features")
    if key == "inputs" and isinstance(data, dict):
        data = columns_to_rows(data, names)
    if not isinstance(data, list) or not data:
        raise BadRequest(f'"{key}" must be a non-empty list of rows')
    rows = []
    for i, row in enumerate(data):
        where = f"{key}[{i}]"
        if isinstance(row, dict):
            if not names:
                raise BadRequest(f"{where} is an object, but the model has no feature names: "
                                 "send a list of numbers")
            missing = [f for f in names if f not in row]
            unknown = [f for f in row if f not in names]
            if missing or unknown:
                raise BadRequest(f"{where}: " + "; ".join(
                    p for p in (missing and f"missing features {missing}",
                                unknown and f"unknown features {unknown}") if p))
            row = [row[f] for f in names]
            rows.append([number(v, f"{where}.{f}") for f, v in zip(names, row)])
            continue
        if not isinstance(row, list):
            raise BadRequest(f"{where} must be a list of {n or 'N'} numbers, got {json.dumps(row)[:80]}")
        if n is not None and len(row) != n:
            raise BadRequest(f"{where} has {len(row)} values; the model expects {n}" +
                             (f" ({', '.join(names)})" if names else ""))
        if rows and len(row) != len(rows[0]):
            raise BadRequest(f"{where} has {len(row)} values, {key}[0] has {len(rows[0])}")
        rows.append([number(v, f"{where}[{j}]") for j, v in enumerate(row)])
    return np.asarray(rows, dtype=float)


def columns_to_rows(columns, names):
    if not names:
        raise BadRequest('"inputs" as columns needs a model with feature names; send rows instead')
    missing = [f for f in names if f not in columns]
    if missing:
        raise BadRequest(f'"inputs" lacks the columns {missing}')
    lengths = {f: len(columns[f]) if isinstance(columns[f], list) else -1 for f in names}
    if min(lengths.values()) < 0 or len(set(lengths.values())) != 1:
        raise BadRequest(f'"inputs" columns must be lists of one length, got lengths {lengths}')
    return [{f: columns[f][i] for f in names} for i in range(lengths[names[0]])]


def predict(model, info, x):
    try:
        out = {"predictions": jsonable(np.asarray(model.predict(x)))}
    except (ValueError, RuntimeError) as e:  # scikit-learn's (and torch's) word for input it cannot use
        raise BadRequest(f"the model refused the input: {e}")
    if info.get("predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(x), dtype=float)
            out["probabilities"] = np.round(proba, 6).tolist()
            if "classes" in info:
                out["classes"] = info["classes"]
        except (AttributeError, ValueError):
            pass
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "quader-predict/1"
    holder = None  # set in main()
    last_health = None  # the status of the last health check (guarded by _log_lock)

    def log_message(self, *args):  # one line per request is written by reply()
        pass

    def reply(self, status, obj, extra=""):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            self.send_header("Allow", "POST" if self.command == "GET" else "GET")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if self.quiet_health(status):
            return
        ms = (time.monotonic() - self._t0) * 1000
        log(f'{self.client_address[0]} "{self.command} {self.path}" {status} {ms:.1f}ms{extra}')

    def quiet_health(self, status):
        """True for a health check that answers as the one before did: the platform
        probes every second, and a log of identical probes would bury the requests."""
        if self.path.split("?", 1)[0] not in ("/health", "/healthz"):
            return False
        with _log_lock:
            same = Handler.last_health == status
            Handler.last_health = status
        return same

    def error(self, status, message):
        self.reply(status, {"error": message}, f" error: {message[:200]}")

    def handle_one_request(self):
        self._t0 = time.monotonic()
        try:
            super().handle_one_request()
        except Exception as e:  # never let one request take the server down
            log(f"internal error: {type(e).__name__}: {e}")
            try:
                self.error(500, f"internal error: {type(e).__name__}: {e}")
            except Exception:
                pass

    def route(self):
        """("predict" | "health" | "index" | "status", error) for this path."""
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path in ("/predict", "/v1/predict"):
            return "predict", None
        if path in ("/health", "/healthz"):
            return "health", None
        if path == "/":
            return "index", None
        if path.startswith("/v1/models/"):
            name, _, verb = path[len("/v1/models/"):].partition(":")
            name = name.split("/versions/")[0]
            if name != self.holder.name:
                return None, f"no model {name!r} here (this server serves {self.holder.name!r})"
            if verb == "predict":
                return "predict", None
            if verb == "":
                return "status", None
        return None, f"no such path: {path} (try GET / for the list)"

    def do_GET(self):
        what, problem = self.route()
        model, info, why = self.holder.get()
        if what is None:
            return self.error(404, problem)
        if what == "predict":
            return self.error(405, "predict takes a POST with a JSON body")
        base = {"model": self.holder.name, "version": self.holder.version}
        if os.environ.get("QUADER_MODEL_REF"):
            base["ref"] = os.environ["QUADER_MODEL_REF"]
        if what == "health":
            if model is None:
                return self.reply(503, dict(base, status="unavailable", reason=why))
            return self.reply(200, dict(base, status="ok"))
        if what == "status":
            state = "AVAILABLE" if model is not None else "LOADING"
            return self.reply(200, {"model_version_status": [
                {"version": self.holder.version, "state": state,
                 "status": {"error_code": "OK", "error_message": why or ""}}]})
        self.reply(200, dict(base, server="quader-predict", loaded=model is not None, reason=why,
                             model_info=info, endpoints={
                                 "GET /health": "200 once the model is loaded",
                                 "POST /predict": '{"instances": [[f1, f2, ...], ...]}',
                                 f"POST /v1/models/{self.holder.name}:predict": "the same"}))

    do_HEAD = do_GET

    def read_body(self):
        """(body, None) or (None, (status, error)). The body is read before any answer:
        closing a socket with unread bytes makes the kernel reset the connection, and the
        client would see that instead of the answer."""
        length = self.headers.get("Content-Length")
        if length is None:
            return None, (411, "a Content-Length header is required")
        try:
            length = int(length)
        except ValueError:
            return None, (400, f"bad Content-Length {length!r}")
        if length < 0 or length > MAX_BODY:
            return None, (413, f"the body is over {MAX_BODY} bytes")
        return self.rfile.read(length), None

    def do_POST(self):
        raw, problem = self.read_body()
        if problem:
            return self.error(*problem)
        what, problem = self.route()
        if what is None:
            return self.error(404, problem)
        if what != "predict":
            return self.error(405, f"{self.path} takes a GET")
        model, info, why = self.holder.get()
        if model is None:
            return self.error(503, f"the model is not loaded: {why}")
        try:
            body = json.loads(raw, parse_constant=no_constant)
            x = rows_of(body, info)
            out = predict(model, info, x)
        except json.JSONDecodeError as e:
            return self.error(400, f"the body is not valid JSON: {e}")
        except UnicodeDecodeError:
            return self.error(400, "the body is not UTF-8 JSON")
        except BadRequest as e:
            return self.error(400, str(e))
        except RecursionError:
            return self.error(400, "the body is nested too deeply")
        self.reply(200, out, f" {len(x)} instance{'s' if len(x) != 1 else ''}")


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 resets connections in a burst
    daemon_threads = True


def watch(holder, stop):
    """Loads the model when it appears and again whenever the file changes."""
    last = None
    while not stop.wait(POLL_SECONDS):
        problem = holder.try_load()
        if problem and problem != last:
            serving = holder.get()[0] is not None
            log(problem + ("; still serving the model loaded before" if serving else ""))
        last = problem


def first_load(holder):
    """Loads the model at start. A missing file is waited for (by the watcher); a file that
    stays unloadable for a few tries ends the server (exit 1), so the platform shows why."""
    for _ in range(3):
        problem = holder.try_load(again=True)
        if problem is None or problem.startswith("waiting for"):
            if problem:
                log(problem + " (it is loaded when it appears; /health answers 503 until then)")
            return
        log(problem)
        time.sleep(1)  # perhaps still being written
    sys.exit(f"error: {problem}")


def main():
    env = os.environ
    p = argparse.ArgumentParser(description="Serve a joblib scikit-learn model over HTTP.")
    p.add_argument("--model", default=env.get("KUBEFLOW_MODEL_PATH", ""),
                   help="a .joblib file or a directory with model.joblib (KUBEFLOW_MODEL_PATH)")
    p.add_argument("--name", default=env.get("KUBEFLOW_MODEL_NAME", ""), help="KUBEFLOW_MODEL_NAME")
    p.add_argument("--version", default=env.get("KUBEFLOW_MODEL_VERSION", ""), help="KUBEFLOW_MODEL_VERSION")
    p.add_argument("--port", type=int, default=int(env.get("PORT") or 80), help="PORT (default 80)")
    p.add_argument("--host", default=env.get("LISTEN_HOST") or "0.0.0.0", help="LISTEN_HOST (default 0.0.0.0)")
    a = p.parse_args()
    if not a.model:
        sys.exit("error: no model: set KUBEFLOW_MODEL_PATH (or --model) to a .joblib file")
    if a.model.startswith(("http://", "https://")):
        sys.exit(f"error: model path {a.model}: this server loads local files only "
                 "(publish the model under /mnt/$USERNAME and point model_path there)")
    name = a.name or os.path.splitext(os.path.basename(a.model.rstrip("/")))[0]

    holder = ModelHolder(a.model, name, a.version)
    Handler.holder = holder
    first_load(holder)
    try:
        httpd = Server((a.host, a.port), Handler)
    except OSError as e:
        sys.exit(f"error: cannot listen on {a.host}:{a.port}: {e}")
    stop = threading.Event()
    threading.Thread(target=watch, args=(holder, stop), daemon=True).start()

    def terminate(signum, _frame):
        log(f"signal {signum}: stopping")
        stop.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    log(f"serving model {name!r} version {a.version!r} from {a.model} on http://{a.host}:{a.port}")
    httpd.serve_forever()
    httpd.server_close()


if __name__ == "__main__":
    main()
