#!/usr/bin/python3
"""Run example templates and pipelines outside the platform, simulating what a task sees.

  simulate.py extract TEMPLATES_DIR DEST          each template's `files` -> DEST/<name>/
  simulate.py run PIPELINE TEMPLATES_DIR WORKDIR [--set TASK:--flag=VALUE ...]

`run` executes the pipeline's tasks in dependency order with /usr/bin/python3 the way
docs/pipelines.md describes: argv rendered from the template's schema plus the task's
args (`--flag value`, a true bool as the bare flag, empty values left out), variables
substituted ({{run_id}}, {{execution_date}}, global_env keys, {{tasks.T.outputs.K}}),
env from the template, global_env, the task and QUADER_*/KFJ_*. The mounts are
simulated: /outputs -> WORKDIR/T/outputs, /inputs/U -> a link to U's outputs (direct
upstreams only), /template -> the extracted files; argv paths under them are rewritten.
Each task's stdout+stderr goes to WORKDIR/T/log; WORKDIR/summary.json records
{task: {"rc": n, "outputs": {...}}}. Exits 1 if any task failed or was not run.
"""
import glob, json, os, re, subprocess, sys

import yaml

PY = "/usr/bin/python3"


def load_templates(tdir):
    out = {}
    for f in sorted(glob.glob(os.path.join(tdir, "*.yaml"))):
        d = yaml.safe_load(open(f))
        if d.get("kind") == "JobTemplate":
            out[d["name"]] = d
    return out


def extract(tdir, dest):
    for name, t in load_templates(tdir).items():
        os.makedirs(os.path.join(dest, name), exist_ok=True)
        for fname, text in (t.get("files") or {}).items():
            with open(os.path.join(dest, name, fname), "w") as f:
                f.write(text)
        print(f"extracted {name}: {', '.join(t.get('files') or {})}")


def render_value(v, vars_):
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"))
    s = str(v)

    def sub(m):
        key = m.group(1).strip()
        if key not in vars_:
            sys.exit(f"unknown variable {{{{{key}}}}}")
        return str(vars_[key])
    return re.sub(r"\{\{([^}]*)\}\}", sub, s)


def argv_for(template, task_args, vars_):
    schema = template.get("args") or {}
    known = {n: a for g in schema.values() for n, a in g.items()}
    for n in task_args:
        if n not in known:
            sys.exit(f"task argument {n} is not in template {template['name']}'s schema")
    argv = []
    for group in schema.values():
        for name in sorted(group):
            attrs = group[name] or {}
            v = task_args.get(name, attrs.get("default", ""))
            typ = attrs.get("type", "str")
            if typ == "bool":
                if v is True or str(v).lower() in ("true", "1"):
                    argv.append(name)
                continue
            if v is None or v == "":
                if int(attrs.get("require", 0 if "default" in attrs else 1)):
                    sys.exit(f"missing required argument {name}")
                continue
            if typ == "multiple" and isinstance(v, list):
                v = ",".join(map(str, v))
            argv += [name, render_value(v, vars_)]
    return argv


def rewrite(s, outputs, inputs, tfiles):
    for prefix, real in (("/outputs", outputs), ("/inputs", inputs), ("/template", tfiles)):
        if s == prefix or s.startswith(prefix + "/"):
            return real + s[len(prefix):]
    return s


def run(pfile, tdir, work, overrides):
    p = yaml.safe_load(open(pfile))
    templates = load_templates(tdir)
    tfiles_root = os.path.join(work, "_templates")
    extract(tdir, tfiles_root)
    global_env = {k: str(v) for k, v in (p.get("global_env") or {}).items()}
    base_vars = dict(global_env, run_id="sim-1", execution_date="2026-12-01 02:00:00",
                     pipeline_name=p["name"], pipeline_id=1, creator="admin", runner="admin")
    tasks = {t["name"]: t for t in p["tasks"]}
    for o in overrides:
        tname, rest = o.split(":", 1)
        flag, value = rest.split("=", 1)
        tasks[tname].setdefault("args", {})[flag] = value
    done, summary, failed = {}, {}, False
    pending = list(p["tasks"])
    while pending:
        ready = [t for t in pending if all(d in done for d in t.get("depends_on") or [])]
        if not ready:
            sys.exit("cycle or unknown dependency in " + pfile)
        t = ready[0]
        pending.remove(t)
        name, deps = t["name"], t.get("depends_on") or []
        if any(summary[d]["rc"] != 0 for d in deps):
            summary[name] = {"rc": None, "state": "upstream_failed", "outputs": {}}
            done[name] = True
            failed = True
            print(f"== {name}: upstream_failed")
            continue
        tmpl = templates[t["template"]]
        vars_ = dict(base_vars)
        for d in deps:  # only direct upstreams here; enough for the examples
            for k, v in summary[d]["outputs"].items():
                vars_[f"tasks.{d}.outputs.{k}"] = v
        tdir_ = os.path.join(work, name)
        outputs, inputs = os.path.join(tdir_, "outputs"), os.path.join(tdir_, "inputs")
        os.makedirs(outputs, exist_ok=True)
        os.makedirs(inputs, exist_ok=True)
        for d in deps:
            os.symlink(os.path.join(work, d, "outputs"), os.path.join(inputs, d))
        tfiles = os.path.join(tfiles_root, tmpl["name"])
        cmd = tmpl["command"] if isinstance(tmpl["command"], list) else tmpl["command"].split()
        argv = [rewrite(a, outputs, inputs, tfiles)
                for a in cmd + argv_for(tmpl, t.get("args") or {}, vars_)]
        if argv[0] == "python3":
            argv[0] = PY
        env = dict(os.environ)
        env.update({k: str(v) for k, v in (tmpl.get("env") or {}).items()})
        env.update(global_env)
        env.update({k: str(v) for k, v in (t.get("env") or {}).items()})
        env.update(QUADER_OUTPUTS=outputs, QUADER_INPUTS=inputs, QUADER_ATTEMPT="1",
                   KFJ_RUN_ID="sim-1", KFJ_TASK_NAME=name, KFJ_PIPELINE_NAME=p["name"],
                   KFJ_EXECUTION_DATE=base_vars["execution_date"], USERNAME="admin")
        print(f"== {name}: {' '.join(argv)}", flush=True)
        with open(os.path.join(tdir_, "log"), "w") as log:
            rc = subprocess.run(argv, env=env, cwd=tdir_, stdout=log,
                                stderr=subprocess.STDOUT, timeout=300).returncode
        outs = {}
        ofile = os.path.join(outputs, "outputs.json")
        if rc == 0 and os.path.exists(ofile):
            if os.path.getsize(ofile) > 64 * 1024:
                sys.exit(f"{name}: outputs.json is over 64 KiB")
            outs = json.load(open(ofile))
            if not isinstance(outs, dict):
                sys.exit(f"{name}: outputs.json is not a JSON object")
        summary[name] = {"rc": rc, "state": "succeeded" if rc == 0 else "failed", "outputs": outs}
        done[name] = True
        failed |= rc != 0
        print(f"== {name}: exit {rc}", flush=True)
        if rc != 0:  # show why
            print("".join(open(os.path.join(tdir_, "log")).readlines()[-10:]), end="", flush=True)
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "extract":
        extract(a[1], a[2])
    elif len(a) >= 4 and a[0] == "run":
        sets = [a[i + 1] for i in range(4, len(a) - 1) if a[i] == "--set"]
        sys.exit(run(a[1], a[2], a[3], sets))
    else:
        sys.exit(__doc__)
