#!/usr/bin/python3
"""images/predict/predict_server.py over HTTP, without a Quader server.

Runs with Debian's /usr/bin/python3 (scikit-learn, joblib, numpy, pandas from `make deps`):
trains small models in a temp dir, starts the server as quader/predict:1 would be started
(KUBEFLOW_MODEL_PATH, KUBEFLOW_MODEL_NAME, KUBEFLOW_MODEL_VERSION, PORT) and checks its
answers, its errors (a table of bad bodies), waiting for a model file, reloading a
replaced one, refusing an unloadable one, and stopping on SIGTERM.
"""
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import joblib
import pandas as pd
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "images", "predict", "predict_server.py")
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]
NAMES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iris_frame():
    bunch = datasets.load_iris()
    return pd.DataFrame(bunch.data, columns=NAMES), bunch.target, bunch.target_names


def save(model, path):
    tmp = path + ".tmp"
    joblib.dump(model, tmp)
    os.replace(tmp, path)


class Server:
    """One predict_server.py process on a free port; its stdout is kept."""

    def __init__(self, model_path, name="iris", version="v1", args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, KUBEFLOW_MODEL_PATH=model_path, KUBEFLOW_MODEL_NAME=name,
                   KUBEFLOW_MODEL_VERSION=version, PORT=str(self.port), LISTEN_HOST="127.0.0.1",
                   PYTHONUNBUFFERED="1")
        fd, self.log_path = tempfile.mkstemp(prefix="predict-server-", suffix=".log")
        os.close(fd)
        with open(self.log_path, "ab") as out:  # append-only: reading never moves its writes
            self.proc = subprocess.Popen([sys.executable, SERVER, *args], env=env, stdout=out,
                                         stderr=subprocess.STDOUT)

    def wait_listening(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not listen within {seconds} s:\n{self.log()}")

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON body or the raw text)."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def predict(self, body, path="/predict"):
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def wait_status(self, path, status, seconds=20):
        deadline = time.monotonic() + seconds
        got = None
        while time.monotonic() < deadline:
            got = self.request("GET", path)
            if got[0] == status:
                return got
            time.sleep(0.2)
        raise AssertionError(f"GET {path} did not answer {status} within {seconds} s: {got}\n{self.log()}")

    def wait_log(self, text, seconds=20):
        deadline = time.monotonic() + seconds
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear in the log within {seconds} s:\n{self.log()}")
            time.sleep(0.1)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def remove_log(self):
        os.unlink(self.log_path)


class PredictServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        x, y, names = iris_frame()
        cls.model_dir = os.path.join(cls.tmp.name, "iris")
        os.makedirs(cls.model_dir)
        # Fitted on named columns, as train-sklearn does: rows may be keyed by feature name.
        save(LogisticRegression(max_iter=1000).fit(x, y), os.path.join(cls.model_dir, "model.joblib"))
        cls.server = Server(cls.model_dir).wait_listening()  # a directory holding model.joblib
        cls.server.wait_status("/health", 200)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.remove_log()
        cls.tmp.cleanup()

    def test_predicts_classes_with_probabilities(self):
        status, out = self.server.predict({"instances": [SETOSA, VIRGINICA]})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["predictions"], [0, 2])
        self.assertEqual(out["classes"], [0, 1, 2])
        self.assertEqual(len(out["probabilities"]), 2)
        for row in out["probabilities"]:
            self.assertEqual(len(row), 3)
            self.assertAlmostEqual(sum(row), 1.0, places=4)
        self.assertGreater(out["probabilities"][0][0], 0.5)
        self.assertGreater(out["probabilities"][1][2], 0.5)

    def test_every_input_form_gives_the_same_answer(self):
        named = [dict(zip(NAMES, SETOSA)), dict(zip(NAMES, VIRGINICA))]
        columns = {n: [SETOSA[i], VIRGINICA[i]] for i, n in enumerate(NAMES)}
        for path, body in [("/predict", {"inputs": [SETOSA, VIRGINICA]}),
                           ("/predict", {"instances": named}),
                           ("/predict", {"inputs": columns}),
                           ("/predict", {"instances": [[int(v) if v == int(v) else v for v in SETOSA],
                                                       VIRGINICA]}),
                           ("/v1/models/iris:predict", {"instances": [SETOSA, VIRGINICA]}),
                           ("/v1/models/iris/versions/v1:predict", {"instances": [SETOSA, VIRGINICA]})]:
            with self.subTest(path=path, body=body):
                status, out = self.server.predict(body, path)
                self.assertEqual(status, 200, out)
                self.assertEqual(out["predictions"], [0, 2])

    def test_bad_requests_are_400_naming_the_problem(self):
        too_deep = "[" * 100000
        cases = [
            # (body, status, fragment of the error), each with why
            ("{\"instances\": [[5.1", 400, "not valid JSON"),           # truncated
            ("", 400, "not valid JSON"),                                # empty
            (b"\xff\xfe\x00", 400, "not"),                              # not UTF-8 text
            ("[1, 2]", 400, "must be a JSON object"),                   # not an object
            ("{\"rows\": []}", 400, "has no \"instances\""),            # wrong key
            ("{\"instances\": []}", 400, "non-empty list"),             # nothing to predict
            ("{\"instances\": 7}", 400, "non-empty list"),              # not a list
            ("{\"instances\": [[5.1, 3.5, 1.4]]}", 400, "instances[0] has 3 values; the model expects 4"),
            ("{\"instances\": [[5.1, 3.5, 1.4, 0.2], [1, 2]]}", 400, "instances[1] has 2 values"),
            ("{\"instances\": [[5.1, 3.5, 1.4, \"x\"]]}", 400, "instances[0][3] must be a number"),
            ("{\"instances\": [[5.1, 3.5, 1.4, null]]}", 400, "instances[0][3] must be a number"),
            ("{\"instances\": [[5.1, 3.5, 1.4, true]]}", 400, "instances[0][3] must be a number"),
            ("{\"instances\": [[5.1, 3.5, 1.4, NaN]]}", 400, "NaN"),
            ("{\"instances\": [[5.1, 3.5, 1.4, 1e999]]}", 400, "finite"),
            ("{\"instances\": [[5.1, 3.5, 1.4, 1" + "0" * 400 + "]]}", 400, "too large"),
            ("{\"instances\": [5.1, 3.5, 1.4, 0.2]}", 400, "instances[0] must be a list of 4 numbers"),
            ("{\"instances\": [{\"sepal_length_cm\": 1}]}", 400, "missing features"),
            ("{\"instances\": [{\"petal\": 1}]}", 400, "unknown features ['petal']"),
            ("{\"inputs\": {\"sepal_length_cm\": [1]}}", 400, "lacks the columns"),
            (too_deep, 400, "nested too deeply"),
        ]
        for body, status, fragment in cases:
            with self.subTest(body=body[:60]):
                got, out = self.server.predict(body)
                self.assertEqual(got, status, out)
                self.assertIsInstance(out, dict, out)
                self.assertIn(fragment, out.get("error", ""))
        # Still serving.
        self.assertEqual(self.server.predict({"instances": [SETOSA]})[1]["predictions"], [0])

    def test_paths_and_methods(self):
        status, out = self.server.request("GET", "/health")
        self.assertEqual((status, out), (200, {"model": "iris", "version": "v1", "status": "ok"}))
        status, out = self.server.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(out["model_info"]["feature_names"], NAMES)
        self.assertIn("POST /predict", out["endpoints"])
        self.assertEqual(self.server.request("GET", "/v1/models/iris")[1]["model_version_status"][0]["state"],
                         "AVAILABLE")
        self.assertEqual(self.server.predict({"instances": [SETOSA]}, "/v1/models/other:predict")[0], 404)
        self.assertEqual(self.server.request("GET", "/nowhere")[0], 404)
        self.assertEqual(self.server.request("GET", "/predict")[0], 405)
        self.assertEqual(self.server.request("POST", "/health", "{}")[0], 405)

    def test_concurrent_requests(self):
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda i: self.server.predict({"instances": [SETOSA, VIRGINICA] * (i + 1)}),
                                range(32)))
        for i, (status, out) in enumerate(got):
            self.assertEqual(status, 200, out)
            self.assertEqual(out["predictions"], [0, 2] * (i + 1))

    def test_one_log_line_per_request(self):
        before = self.server.log().count('"POST /predict"')
        self.server.predict({"instances": [SETOSA]})
        self.server.predict("nope")
        deadline = time.monotonic() + 5
        while self.server.log().count('"POST /predict"') < before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [l for l in self.server.log().splitlines() if '"POST /predict"' in l][before:]
        self.assertEqual(len(lines), 2, self.server.log())
        # The server's threads write their lines as each request ends: the
        # second request's line may come first.
        ok, bad = sorted(lines, key=lambda l: " 400 " in l)
        self.assertIn(" 200 ", ok)
        self.assertIn("1 instance", ok)
        self.assertIn(" 400 ", bad)
        self.assertIn("not valid JSON", bad)
        self.assertNotIn("Warning", self.server.log())  # e.g. scikit-learn's about feature names
        # Health checks are logged when their answer changes, not once a second.
        health = self.server.log().count('"GET /health"')
        for _ in range(3):
            self.assertEqual(self.server.request("GET", "/health")[0], 200)
        time.sleep(0.2)
        self.assertEqual(self.server.log().count('"GET /health"'), health, self.server.log())


class ModelLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
            s.remove_log()
        self.tmp.cleanup()

    def start(self, path, **kw):
        s = Server(path, **kw)
        self.servers.append(s)
        return s

    def test_waits_for_the_model_then_reloads_it_when_replaced(self):
        path = os.path.join(self.tmp.name, "models", "iris", "model.joblib")
        s = self.start(path).wait_listening()
        status, out = s.request("GET", "/health")
        self.assertEqual(status, 503, out)
        self.assertIn("waiting for the model file", out["reason"])
        status, out = s.predict({"instances": [SETOSA]})
        self.assertEqual(status, 503, out)

        x, y, names = iris_frame()
        os.makedirs(os.path.dirname(path))
        save(LogisticRegression(max_iter=1000).fit(x.values, y), path)  # no feature names
        s.wait_status("/health", 200)
        status, out = s.predict({"instances": [SETOSA, VIRGINICA]})
        self.assertEqual((status, out["predictions"]), (200, [0, 2]), out)
        status, out = s.predict({"instances": [dict(zip(NAMES, SETOSA))]})
        self.assertEqual(status, 400, out)
        self.assertIn("no feature names", out["error"])

        # A broken replacement is not loaded: the old model goes on serving.
        with open(path + ".tmp", "w") as f:
            f.write("not a model")
        os.replace(path + ".tmp", path)
        s.wait_log("still serving the model loaded before")
        self.assertEqual(s.predict({"instances": [SETOSA]})[1]["predictions"], [0])

        # A good replacement is: string labels, and no predict_proba (SVC without it).
        save(SVC().fit(x.values, names[y]), path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, out = s.predict({"instances": [SETOSA, VIRGINICA]})
            if out.get("predictions") == ["setosa", "virginica"]:
                break
            time.sleep(0.2)
        self.assertEqual(out["predictions"], ["setosa", "virginica"], s.log())
        self.assertNotIn("probabilities", out)
        self.assertEqual(s.stop(), 0, s.log())  # SIGTERM: a clean stop
        self.assertIn("reloaded", s.log())

    def test_an_unloadable_model_ends_the_server_with_the_reason(self):
        path = os.path.join(self.tmp.name, "broken.joblib")
        with open(path, "w") as f:
            f.write("not a model")
        s = self.start(path)
        self.assertEqual(s.proc.wait(30), 1)
        self.assertIn(f"error: cannot load {path}", s.log())

    def test_a_url_or_no_model_is_refused_at_once(self):
        for path, fragment in [("https://example.com/model.joblib", "loads local files only"),
                               ("", "no model")]:
            with self.subTest(path=path):
                s = self.start(path)
                self.assertEqual(s.proc.wait(30), 1)
                self.assertIn(fragment, s.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
