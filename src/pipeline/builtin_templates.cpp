// The job templates built into Quader: cube-studio's custom-image template
// (spec.cpp CustomizeTemplate) and its `model-register`, which here drives
// the model registry (docs/models.md, docs/cube-studio.md).
#include "pipeline/spec.h"

namespace quader::pipeline {
namespace {

// Puts --model_path (a file or directory the task sees, or an http(s) URL)
// under /outputs/model and declares it in outputs.json's register_model, so
// that the task registers the next version of --model_name when it
// succeeds, in the run's project, as its runner (the task needs no token).
constexpr const char* kRegisterScript = R"py("""cube-studio's model-register on Quader: declares --model_path as a model version (docs/models.md)."""
import argparse, json, math, os, shutil, sys, urllib.request

FRAMEWORKS = {"sklearn": "sklearn", "xgb": "xgboost", "xgboost": "xgboost", "tf": "tensorflow",
              "tensorflow": "tensorflow", "pytorch": "pytorch", "onnx": "onnx"}

parser = argparse.ArgumentParser()
for flag in ("--project_name", "--model_version", "--model_metric", "--describe", "--inference_framework"):
    parser.add_argument(flag, default="")
parser.add_argument("--model_name", required=True)
parser.add_argument("--model_path", required=True)
parser.add_argument("--framework", default="custom")
args, _ = parser.parse_known_args()

out = os.environ.get("QUADER_OUTPUTS", "/outputs")
dest = os.path.join(out, "model")
os.makedirs(dest, exist_ok=True)
src = args.model_path.strip()
if src.startswith(("http://", "https://")):
    name = os.path.basename(src.split("?")[0]) or "model"
    print(f"model-register: downloading {src}", flush=True)
    with urllib.request.urlopen(src, timeout=600) as r, open(os.path.join(dest, name), "wb") as f:
        shutil.copyfileobj(r, f)
elif os.path.isdir(src):
    shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True)
elif os.path.isfile(src):
    shutil.copy2(src, os.path.join(dest, os.path.basename(src)))
else:
    sys.exit(f"model-register: --model_path {src!r}: no such file or directory in this task")

metrics = {}
text = args.model_metric.strip()
pairs = json.loads(text).items() if text.startswith("{") else (
    p.split(":", 1) for p in text.replace("\n", ",").split(",") if ":" in p)
for key, value in pairs:
    try:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not finite")
        metrics[str(key).strip()[:128]] = number
    except (TypeError, ValueError):
        print(f"model-register: metric {key!r}: {value!r} is not a finite number; left out", flush=True)

project = os.environ.get("KFJ_TASK_PROJECT_NAME", "")
if args.project_name and project and args.project_name != project:
    print(f"model-register: registered in this run's project {project}, not {args.project_name}", flush=True)
params = {k: v for k, v in (("cube_studio_version", args.model_version),
                            ("inference_framework", args.inference_framework)) if v}
declaration = {"name": args.model_name, "path": "model", "framework": FRAMEWORKS.get(args.framework.lower(), "custom"),
               "metrics": metrics, "params": params, "description": args.describe[:4096]}
with open(os.path.join(out, "outputs.json"), "w") as f:
    json.dump({"register_model": declaration}, f)
print(f"model-register: {args.model_name} ({declaration['framework']}) declared; registered when this task succeeds",
      flush=True)
)py";

// Declares deploy_model in outputs.json: when the task succeeds, version
// --model_version (vN or N; else the newest) of --model_name is served as an
// inference service by the guide's rule (the predict server), as the run's
// runner. cube-studio's other deploy arguments describe its own images and
// are noted, not used.
constexpr const char* kDeployScript = R"py("""cube-studio's deploy-service on Quader: serves a registry version (docs/models.md)."""
import argparse, json, os, re

parser = argparse.ArgumentParser()
parser.add_argument("--model_name", required=True)
parser.add_argument("--model_version", default="")
args, rest = parser.parse_known_args()
declaration = {"name": args.model_name}
match = re.fullmatch(r"v?(\d{1,9})", args.model_version.strip())
if match:
    declaration["version"] = int(match.group(1))
elif args.model_version:
    print(f"deploy-service: version {args.model_version!r} is not a registry version number: the newest is served",
          flush=True)
given = sorted({a.split("=")[0] for a in rest if a.startswith("--") and a.split("=")[0] != "--project_name"})
if given:
    print("deploy-service: served by the registry's predict server; not used here: " + ", ".join(given), flush=True)
out = os.environ.get("QUADER_OUTPUTS", "/outputs")
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "outputs.json")
outputs = json.load(open(path)) if os.path.exists(path) else {}
outputs["deploy_model"] = declaration
with open(path, "w") as f:
    json.dump(outputs, f)
print(f"deploy-service: {args.model_name} {declaration.get('version', '(newest)')} served when this task succeeds",
      flush=True)
)py";

}  // namespace

const TemplateSpec& DeployServiceTemplate() {
  static const TemplateSpec* const kSpec = [] {
    auto arg = [](const char* label, const char* describe, bool required) {
      return Json{{"type", "str"}, {"label", label}, {"require", required ? 1 : 0}, {"default", ""},
                  {"describe", describe}};
    };
    Json doc = {
        {"name", kDeployServiceTemplate},
        {"image", "quader/python:3.11"},
        {"description", "Serves a registered model version as an inference service (cube-studio's deploy-service)"},
        {"command", Json::array({"python3", "/template/deploy.py"})},
        {"files", {{"deploy.py", kDeployScript}}},
        {"args",
         {{"Model",
           {{"--project_name", arg("Project", "cube-studio's; the run's project is used", false)},
            {"--model_name", arg("Model name", "A model of the registry", true)},
            {"--model_version", arg("Version", "vN or N; empty: the newest", false)}}}}}};
    auto parsed = ParseTemplateSpec(doc);
    return new TemplateSpec(parsed.ok() ? std::move(parsed).value() : TemplateSpec{});
  }();
  return *kSpec;
}

const TemplateSpec& ModelRegisterTemplate() {
  static const TemplateSpec* const kSpec = [] {
    auto arg = [](const char* label, const char* def, const char* describe, bool required) {
      return Json{{"type", "str"}, {"label", label}, {"require", required ? 1 : 0}, {"default", def},
                  {"describe", describe}};
    };
    Json doc = {
        {"name", kModelRegisterTemplate},
        {"image", "quader/python:3.11"},
        {"description", "Registers a model version in Quader's registry (cube-studio's model-register)"},
        {"command", Json::array({"python3", "/template/register.py"})},
        {"files", {{"register.py", kRegisterScript}}},
        {"args",
         {{"Model",
           {{"--project_name", arg("Project", "public", "cube-studio's; the version goes to the run's project", false)},
            {"--model_name", arg("Model name", "", "The model (a-z0-9-)", true)},
            {"--model_version", arg("Version", "", "cube-studio's version text, kept as a parameter", false)},
            {"--model_path", arg("Model path", "", "A file or directory this task sees (/mnt/USER/..., /inputs/TASK/...) "
                                                   "or an http(s) URL", true)},
            {"--model_metric", arg("Metrics", "", "NAME:NUMBER, by commas or lines, or a JSON object", false)},
            {"--describe", arg("Description", "", "What this version is", false)},
            {"--framework", arg("Framework", "sklearn", "sklearn, xgb, tf, pytorch, onnx (others: custom)", false)},
            {"--inference_framework", arg("Inference framework", "", "cube-studio's, kept as a parameter", false)}}}}}};
    auto parsed = ParseTemplateSpec(doc);
    return new TemplateSpec(parsed.ok() ? std::move(parsed).value() : TemplateSpec{});
  }();
  return *kSpec;
}

const TemplateSpec* BuiltinTemplate(const std::string& text) {
  std::string name = text.rfind("public/", 0) == 0 ? text.substr(7) : text;
  if (name == kCustomizeTemplate || name == kCustomizeTemplateAlias) return &CustomizeTemplate();
  if (name == kModelRegisterTemplate) return &ModelRegisterTemplate();
  if (name == kDeployServiceTemplate) return &DeployServiceTemplate();
  return nullptr;
}

}  // namespace quader::pipeline
