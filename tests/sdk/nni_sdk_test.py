#!/usr/bin/env python3
"""Unit test of Quader's `nni` trial module (sdk/python/nni).

A threaded http.server on 127.0.0.1 plays the Quader trial API (/tmp/qx contract:
GET /api/v1/trial/parameters, POST /api/v1/trial/metrics, bearer token, 401/409 errors);
trial code runs in a subprocess with the trial environment set, as the server runs it.
Plain unittest, standard library only: /usr/bin/python3 tests/sdk/nni_sdk_test.py
"""

import argparse
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.normpath(os.path.join(HERE, "..", "..", "sdk", "python"))
sys.path.insert(0, SDK)
sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree

import nni  # noqa: E402  (from sdk/python)
from nni.utils import merge_parameter  # noqa: E402

TOKEN = "trial-secret-7f3a"
PARAMETERS = {"batch_size": 32, "lr": 0.01, "optimizer": "adam", "epochs": 3,
              "layers": {"_name": "deep", "depth": 4}}


class FakeTrialApi:
    """The trial side of a Quader server, recording what trials send."""

    def __init__(self):
        self.metrics = []            # (type, value) in arrival order
        self.parameter_gets = 0
        self.fail_next = 0           # answer this many requests with 503 first
        self.lock = threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def error(self, status, code, message):
                self.answer(status, {"error": {"code": code, "message": message}})

            def authorized(self):
                with api.lock:
                    if api.fail_next > 0:
                        api.fail_next -= 1
                        self.error(503, "unavailable", "server is restarting")
                        return False
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    self.error(401, "unauthorized", "invalid or expired trial token")
                    return False
                return True

            def do_GET(self):
                if self.path != "/api/v1/trial/parameters":
                    return self.error(404, "not_found", "no route " + self.path)
                if not self.authorized():
                    return
                with api.lock:
                    api.parameter_gets += 1
                self.answer(200, {"parameter_id": 0, "parameters": PARAMETERS,
                                  "experiment_id": "k3Jd9aQe", "trial_id": "aB3dE",
                                  "sequence_id": 5})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.path != "/api/v1/trial/metrics":
                    return self.error(404, "not_found", "no route " + self.path)
                if not self.authorized():
                    return
                if self.headers.get("Content-Type") != "application/json":
                    return self.error(415, "bad_request", "expected application/json")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.error(400, "bad_request", "body is not JSON")
                kind, value = body.get("type"), body.get("value")
                if kind not in ("PERIODICAL", "FINAL") or isinstance(value, bool) \
                        or not isinstance(value, (int, float)):
                    return self.error(400, "bad_request", "bad metric %r" % (body,))
                with api.lock:
                    if kind == "FINAL" and any(t == "FINAL" for t, _ in api.metrics):
                        return self.error(409, "conflict", "the trial already has a final result")
                    api.metrics.append((kind, value))
                self.answer(200, {"ok": True})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_trial(code, url=None, token=TOKEN, args=(), extra_env=None):
    """Run trial code in a fresh interpreter with the trial environment; CompletedProcess."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QUADER_", "NNI_")) and k.lower() not in ("http_proxy", "no_proxy")}
    env["PYTHONPATH"] = SDK
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if url is not None:
        env.update({"QUADER_API_URL": url, "QUADER_TRIAL_TOKEN": token, "NNI_PLATFORM": "quader",
                    "NNI_EXP_ID": "k3Jd9aQe", "NNI_TRIAL_JOB_ID": "aB3dE",
                    "NNI_TRIAL_SEQ_ID": "5", "NNI_OUTPUT_DIR": "/tmp",
                    "QUADER_API_BACKOFF": "0.05", "HTTP_PROXY": "http://127.0.0.1:9"})
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


class TrialApiTest(unittest.TestCase):
    def setUp(self):
        self.api = FakeTrialApi()

    def tearDown(self):
        self.api.close()

    def trial(self, code, **kw):
        result = run_trial(code, url=self.api.url, **kw)
        return result

    def ok(self, code, **kw):
        result = self.trial(code, **kw)
        self.assertEqual(result.returncode, 0, "trial failed:\n" + result.stdout + result.stderr)
        return result

    def test_parameters_served_and_cached(self):
        result = self.ok("""
            import json, nni
            p = nni.get_next_parameter()
            again = nni.get_next_parameter()
            print(json.dumps({"p": p, "same": p is again, "current": nni.get_current_parameter(),
                              "lr": nni.get_current_parameter("lr"),
                              "ids": [nni.get_experiment_id(), nni.get_trial_id(),
                                      nni.get_sequence_id()]}))
        """)
        out = json.loads(result.stdout)
        self.assertEqual(out["p"], PARAMETERS)
        self.assertTrue(out["same"])
        self.assertEqual(out["current"], PARAMETERS)
        self.assertEqual(out["lr"], 0.01)
        self.assertEqual(out["ids"], ["k3Jd9aQe", "aB3dE", 5])
        self.assertEqual(self.api.parameter_gets, 1)

    def test_current_parameter_before_fetch_is_none(self):
        result = self.ok("import nni; print(nni.get_current_parameter())")
        self.assertEqual(result.stdout.strip(), "None")
        self.assertEqual(self.api.parameter_gets, 0)

    def test_results_arrive_with_types_and_values(self):
        self.ok("""
            import nni
            nni.get_next_parameter()
            for acc in (0.5, 0.75, 1):
                nni.report_intermediate_result(acc)
            nni.report_final_result(0.8125)
        """)
        self.assertEqual(self.api.metrics, [("PERIODICAL", 0.5), ("PERIODICAL", 0.75),
                                            ("PERIODICAL", 1), ("FINAL", 0.8125)])
        self.assertIsInstance(self.api.metrics[2][1], int)
        self.assertIsInstance(self.api.metrics[3][1], float)

    def test_dict_metric_sends_default(self):
        self.ok("""
            import nni
            nni.report_intermediate_result({"default": 0.25, "loss": 1.5})
            nni.report_final_result({"default": 93, "other": "text"})
        """)
        self.assertEqual(self.api.metrics, [("PERIODICAL", 0.25), ("FINAL", 93)])

    def test_dict_metric_sends_the_objective_metric(self):
        # cube-studio's objective_metric_name: the experiment names the key it optimises.
        self.ok("""
            import nni
            nni.report_intermediate_result({"accuracy": 0.5, "loss": 1.5})
            nni.report_final_result({"default": 1, "accuracy": 0.75})
        """, extra_env={"QUADER_OBJECTIVE_METRIC": "accuracy"})
        self.assertEqual(self.api.metrics, [("PERIODICAL", 0.5), ("FINAL", 0.75)])

    def test_bad_metrics_are_clear_errors(self):
        result = self.ok("""
            import nni
            cases = ["0.5", None, True, [1], {"loss": 1.0}, {"default": "x"}, float("nan")]
            for metric in cases:
                try:
                    nni.report_intermediate_result(metric)
                    print("accepted", repr(metric))
                except (TypeError, ValueError) as e:
                    print(type(e).__name__, e)
        """)
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), 7, result.stdout)
        self.assertFalse([l for l in lines if l.startswith("accepted")], result.stdout)
        self.assertTrue(lines[0].startswith("TypeError") and "must be a number" in lines[0])
        self.assertIn('needs the key "default"', lines[4])
        self.assertTrue(lines[6].startswith("ValueError") and "finite" in lines[6])
        self.assertEqual(self.api.metrics, [])

    def test_wrong_token_is_a_clear_error(self):
        result = self.trial("import nni; nni.get_next_parameter()", token="wrong")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("TrialApiError", result.stderr)
        self.assertIn("401", result.stderr)
        self.assertIn("invalid or expired trial token", result.stderr)

        result = self.trial("import nni; nni.report_final_result(1.0)", token="wrong")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("POST /api/v1/trial/metrics -> 401 unauthorized: invalid or expired trial token",
                      result.stderr)
        self.assertEqual(self.api.metrics, [])

    def test_error_attributes_and_second_final(self):
        result = self.ok("""
            import nni
            nni.report_final_result(0.9)
            try:
                nni.report_final_result(0.95)
            except nni.TrialApiError as e:
                print(e.status, e.code, e.message)
        """)
        self.assertEqual(result.stdout.strip(), "409 conflict the trial already has a final result")
        self.assertEqual(self.api.metrics, [("FINAL", 0.9)])

    def test_unavailable_server_is_retried(self):
        self.api.fail_next = 2
        self.ok("import nni; nni.get_next_parameter(); nni.report_final_result(2.5)")
        self.assertEqual(self.api.parameter_gets, 1)
        self.assertEqual(self.api.metrics, [("FINAL", 2.5)])

    def test_connection_refused_retries_then_fails(self):
        port = self.api.server.server_address[1]
        self.api.close()
        self.api = FakeTrialApi()  # tearDown closes this one
        result = run_trial("import nni; nni.get_next_parameter()",
                           url="http://127.0.0.1:%d" % port,
                           extra_env={"QUADER_API_RETRIES": "3", "QUADER_API_BACKOFF": "0.01"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot reach the Quader trial API", result.stderr)
        self.assertIn("gave up after 3 attempts", result.stderr)

    def test_argparse_trial_with_merge_parameter(self):
        """The usual NNI trial: argparse defaults, overridden by the tuner's parameters."""
        result = self.ok("""
            import argparse, json, nni
            from nni.utils import merge_parameter
            parser = argparse.ArgumentParser()
            parser.add_argument("--batch_size", type=int, default=64)
            parser.add_argument("--lr", type=float, default=0.1)
            parser.add_argument("--optimizer", default="sgd")
            parser.add_argument("--epochs", type=int, default=10)
            parser.add_argument("--layers", default=None)
            parser.add_argument("--seed", type=int, default=1)
            args, _ = parser.parse_known_args()
            params = vars(merge_parameter(args, nni.get_next_parameter()))
            print(json.dumps(params, sort_keys=True))
            for epoch in range(params["epochs"]):
                nni.report_intermediate_result(params["lr"] * (epoch + 1))
            nni.report_final_result(params["batch_size"])
        """, args=["--batch_size=32", "--lr=0.01", "--unknown=1"])
        params = json.loads(result.stdout)
        self.assertEqual(params, dict(PARAMETERS, seed=1))
        self.assertEqual(self.api.metrics, [("PERIODICAL", 0.01), ("PERIODICAL", 0.02),
                                            ("PERIODICAL", 0.03), ("FINAL", 32)])


class MergeParameterTest(unittest.TestCase):
    def namespace(self):
        return argparse.Namespace(batch_size=64, lr=0.1, name="sgd", flag=False, extra=None)

    def test_namespace_updated_in_place(self):
        base = self.namespace()
        merged = merge_parameter(base, {"batch_size": 16, "lr": 0.5, "name": "adam", "flag": True})
        self.assertIs(merged, base)
        self.assertEqual(vars(base), {"batch_size": 16, "lr": 0.5, "name": "adam", "flag": True,
                                      "extra": None})

    def test_dict_updated_in_place(self):
        base = {"batch_size": 64, "lr": 0.1, "name": "sgd"}
        merged = merge_parameter(base, {"lr": 0.01, "name": "adam"})
        self.assertIs(merged, base)
        self.assertEqual(base, {"batch_size": 64, "lr": 0.01, "name": "adam"})

    def test_none_override_leaves_base_unchanged(self):
        base = self.namespace()
        self.assertIs(merge_parameter(base, None), base)
        self.assertEqual(vars(base), vars(self.namespace()))
        self.assertEqual(merge_parameter({"a": 1}, None), {"a": 1})
        self.assertEqual(merge_parameter({"a": 1}, {}), {"a": 1})

    def test_unknown_key(self):
        for base in (self.namespace(), {"batch_size": 64}):
            with self.assertRaises(ValueError) as cm:
                merge_parameter(base, {"momentum": 0.9})
            self.assertEqual(str(cm.exception), "Key 'momentum' not found in base parameters.")

    def test_int_becomes_float_where_base_is_float(self):
        base = merge_parameter(self.namespace(), {"lr": 1})
        self.assertEqual(base.lr, 1.0)
        self.assertIsInstance(base.lr, float)
        d = merge_parameter({"lr": 0.5}, {"lr": True})   # bool is an int, as in NNI
        self.assertEqual(d["lr"], 1.0)
        self.assertIsInstance(d["lr"], float)

    def test_none_base_takes_anything(self):
        base = merge_parameter(self.namespace(), {"extra": {"_name": "deep", "depth": 3}})
        self.assertEqual(base.extra, {"_name": "deep", "depth": 3})

    def test_same_type_or_subclass_kept(self):
        d = merge_parameter({"n": 3, "s": "a", "b": False, "l": [1]},
                            {"n": True, "s": "b", "b": True, "l": [2, 3]})
        self.assertEqual(d, {"n": True, "s": "b", "b": True, "l": [2, 3]})

    def test_incompatible_types(self):
        cases = [({"batch_size": 64}, {"batch_size": 32.0}, "batch_size", "int", "float"),
                 ({"batch_size": 64}, {"batch_size": "32"}, "batch_size", "int", "str"),
                 ({"lr": 0.1}, {"lr": "0.1"}, "lr", "float", "str"),
                 ({"name": "sgd"}, {"name": 1}, "name", "str", "int"),
                 ({"flag": False}, {"flag": 1}, "flag", "bool", "int")]
        for base, override, key, want, got in cases:
            with self.assertRaises(ValueError) as cm:
                merge_parameter(base, override)
            self.assertEqual(str(cm.exception), 'Expected "%s" in override parameters to have '
                                                'type %s, but found %s' % (key, want, got))


class StandaloneTest(unittest.TestCase):
    def test_standalone_mode(self):
        result = run_trial("""
            import nni
            from nni.utils import merge_parameter
            p = nni.get_next_parameter()
            print("params", repr(p), repr(merge_parameter({"a": 1}, p)))
            print("ids", nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
            nni.report_intermediate_result(0.5)
            nni.report_intermediate_result({"default": 0.75, "x": 1})
            nni.report_final_result(42)
        """)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            "params {} {'a': 1}",
            "ids STANDALONE STANDALONE 0",
            "Intermediate result: 0.5  (Index 0)",
            "Intermediate result: 0.75  (Index 1)",
            "Final result: 42",
        ])
        self.assertIn("Requesting parameter without NNI framework", result.stderr)

    def test_standalone_metric_still_checked(self):
        result = run_trial("import nni; nni.report_final_result('high')")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("TypeError: nni: a metric must be a number", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
