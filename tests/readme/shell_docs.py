"""What the README test and the docs test share (issue 16): reading a Markdown
file's shell lines, a throwaway directory that looks like the checkout, the
server `make run` starts (scripts/run.sh, the examples loaded, process
runtime), and running one line as a reader types it, checked against a table.

Fences: ```sh (or bash, shell) holds only commands, one a line (`\\` joins
lines, `#` starts a comment); ```console is a transcript, whose `$ ` lines
are the commands and whose other lines are their output. Every other fence
(text, yaml, json, ...) holds no commands. A fence without a language is an
error (check_fences): a reader cannot tell a command from its output.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

SHELL_LANGUAGES = ("sh", "bash", "shell")
FENCE_LANGUAGES = SHELL_LANGUAGES + ("console", "text", "yaml", "json", "toml", "http", "python", "cpp",
                                     "ini", "dockerfile", "mermaid")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fences(path):
    """(line number, language) of every opening fence."""
    out, in_block = [], False
    for n, raw in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        line = raw.strip()
        if line.startswith("```"):
            if not in_block:
                out.append((n, line[3:].strip()))
            in_block = not in_block
    return out


def check_fences(path, name):
    """Failures for fences without a known language."""
    return [f"{name}:{n}: a fence without a language (tag it: {', '.join(FENCE_LANGUAGES)})" if not lang
            else f"{name}:{n}: fence language `{lang}` is not one of {', '.join(FENCE_LANGUAGES)}"
            for n, lang in fences(path) if lang not in FENCE_LANGUAGES]


def shell_lines(path):
    """(line number, command) of every command of the file's sh and console
    blocks, continuations joined."""
    out, lang, pending, start = [], None, "", 0
    for n, raw in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        line = raw.strip()
        if line.startswith("```"):
            lang = None if lang is not None else line[3:].strip()
            continue
        if lang == "console" and not pending:
            if not line.startswith("$ "):
                continue
            line = line[2:].strip()
        elif lang not in SHELL_LANGUAGES and lang != "console":
            continue
        if not line or (line.startswith("#") and not pending):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def without_comment(cmd):
    """The command without a trailing `# comment` (outside quotes)."""
    quote = None
    for i, c in enumerate(cmd):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and i > 0 and cmd[i - 1] in " \t":
            return cmd[:i].rstrip()
    return cmd.rstrip()


def match(table, cmd):
    """The (action, expected) of the first row of `table` whose pattern matches `cmd`, or None."""
    return next(((row[1], row[2]) for row in table if re.search(row[0], cmd)), None)


def classify(where, cmd, table, test_file, failures):
    """The (action, expected) of a line that runs or starts the server. A
    skipped line is printed with its reason, and a line the table does not know
    is a failure; both give None."""
    found = match(table, cmd)
    if found is None:
        failures.append(f"{where}: `{cmd}` is not covered: add it to tests/readme/{test_file} "
                        "(run it, or skip it with the reason)")
        print("FAIL " + failures[-1])
    elif found[0].startswith("skip"):
        print(f"SKIP {where}: {cmd}  ({found[0][5:].strip()})")
        return None
    return found


def commands(lines, label, table, test_file, failures):
    """(where, command, action, expected) of each of `lines` that runs or
    starts the server, in order (classify prints the others)."""
    for n, line in lines:
        where, cmd = f"{label}:{n}", without_comment(line)
        found = classify(where, cmd, table, test_file, failures)
        if found is not None:
            yield where, cmd, found[0], found[1]


def check_line(checkout, where, cmd, action, expected, failures):
    """Runs one line: it must exit 0 ("run") or not ("fail": a documented
    error), and its output must hold every expected fragment."""
    status, out, took = checkout.run(cmd)
    missing = [e for e in expected if e not in out]
    ok = (status != 0 if action == "fail" else status == 0) and not missing
    print(f"{'ok  ' if ok else 'FAIL'} {where}: {cmd}  ({took:.1f} s)")
    if not ok:
        why = (f"exit {status} " if (status != 0) != (action == "fail") else "") + \
              (f"output lacks {missing}" if missing else "")
        failures.append(f"{where}: `{cmd}`: {why.strip()}\n{out[-3000:]}")
        print("     " + failures[-1].replace("\n", "\n     "))


def call(api, method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{api}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


class Checkout:
    """A fresh directory that looks like the checkout: the source tree's
    entries linked, the built tree as build/, an empty ./data, its own HOME,
    and bin/quader (the built binary) first on PATH."""

    def __init__(self, source, build, password, prefix):
        self.source, self.build, self.password = source, build, password
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o711)
        home = os.path.join(self.dir, "home")
        os.makedirs(home)
        for entry in os.listdir(source):
            if entry in ("build", "data", ".git", "bin") or entry.startswith("build"):
                continue
            os.symlink(os.path.join(source, entry), os.path.join(self.dir, entry))
        os.symlink(build, os.path.join(self.dir, "build"))
        os.makedirs(os.path.join(self.dir, "bin"))
        os.symlink(os.path.join(build, "quader"), os.path.join(self.dir, "bin", "quader"))
        self.api, self.gateway = free_port(), free_port()
        self.env = dict(os.environ, HOME=home, QUADER_ADMIN_PASSWORD=password,
                        GATEWAY_LISTEN=f"127.0.0.1:{self.gateway}", QUADER_SKIP_CODE_SERVER="1",
                        PATH=os.path.join(self.dir, "bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        for var in ("QUADER_CONFIG", "QUADER_SERVER", "QUADER_TOKEN"):
            self.env.pop(var, None)
        self.server = None
        self.server_log = open(os.path.join(self.dir, "server.log"), "w")

    def substitute(self, cmd):
        """The command with the documented ports (8080: the API, 8081: the gateway) made this run's."""
        cmd = re.sub(r"(127\.0\.0\.1|localhost):8080\b", rf"\g<1>:{self.api}", cmd)
        return re.sub(r"(127\.0\.0\.1|localhost):8081\b", rf"\g<1>:{self.gateway}", cmd)

    def start_server(self, why):
        """`make run` from the built tree: scripts/run.sh as the Makefile calls it,
        RUNTIME=process. Returns an error, or None once /healthz answers."""
        print(f"RUN  {why}  (as: scripts/run.sh build ./data 127.0.0.1:{self.api} process, in {self.dir})")
        self.server = subprocess.Popen(["scripts/run.sh", "build", "./data", f"127.0.0.1:{self.api}", "process"],
                                       cwd=self.dir, env=self.env, stdout=self.server_log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.api}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return None
            except OSError:
                pass
            if self.server.poll() is not None:
                return f"the server exited ({self.server.returncode})"
            time.sleep(0.3)
        return "the server did not answer /healthz within 90 s"

    def server_up(self):
        return self.server is not None and self.server.poll() is None

    def run(self, cmd, timeout=300):
        """Runs one line with bash in the directory (the password on stdin, for
        `quader login`). Returns (exit status, output, seconds)."""
        started = time.monotonic()
        try:
            r = subprocess.run(["bash", "-c", self.substitute(cmd)], cwd=self.dir, env=self.env,
                               input=self.password + "\n", capture_output=True, text=True, timeout=timeout)
            status, out = r.returncode, r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            status, out = 124, f"timed out after {timeout} s"
        return status, out, time.monotonic() - started

    def token(self):
        return call(self.api, "POST", "/api/v1/login", "", {"username": "admin", "password": self.password})["token"]

    def stop_work(self):
        """Deletes what was left running (notebooks, services, experiments), as a user would."""
        try:
            token = self.token()
            for kind in ("notebooks", "services", "inference-services", "experiments"):
                for item in call(self.api, "GET", f"/api/v1/{kind}", token).get("items", []):
                    try:
                        call(self.api, "DELETE", f"/api/v1/{kind}/{item['id']}", token)
                    except OSError:
                        pass
            time.sleep(3)
        except (OSError, KeyError, ValueError) as e:
            print(f"(cleaning up through the API failed: {e})")

    def close(self, keep):
        """Stops the server and everything started from the directory; removes it unless `keep`."""
        if self.server_up():
            self.stop_work()
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        self.server_log.close()
        kill_leftovers(self.dir)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def server_log_tail(self, size=4000):
        return open(os.path.join(self.dir, "server.log"), errors="replace").read()[-size:]


def kill_leftovers(work):
    """Kills any process still started from `work` (its command line names it)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if work in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
