#!/usr/bin/env node
// Validates Kubernetes manifests offline, without an API server.
//
//   node validate.mjs FILE...        (FILE "-" reads standard input)
//
// Each FILE is JSON (an array of manifests, one manifest, a {"manifests": [...]} object or a
// v1 List) or YAML (one or more documents separated by "---").
//
// Two checks per manifest:
//  1. The kubernetes-models class for its apiVersion and kind validates it (types, formats,
//     enums, required fields) against the OpenAPI schema of Kubernetes 1.27
//     (kubernetes-models 4.3.1) or of Istio's CRDs (@kubernetes-models/istio 2.3.0).
//  2. Unknown fields, which kubernetes-models accepts silently (an API server drops them, or
//     refuses them with --validate=strict): the object is walked against the same JSON
//     schemas, and every property a schema does not declare is reported.
//
// Where the schemas come from: each generated module (kubernetes-models/_schemas/*.mjs,
// @kubernetes-models/apimachinery/_schemas/*.mjs, the Istio model modules) holds its JSON
// schema in a module-local constant and hands it to @kubernetes-models/validate's
// register(id, schema), which calls ajv.addSchema(schema, id) on one shared Ajv instance.
// Neither the constants nor that instance are exported, so this script wraps
// Ajv.prototype.addSchema before any model validates and records every (id, schema) pair.
// Model.validate() registers the schema of its kind and everything it references before
// validating, so after check 1 the registry holds every schema check 2 needs; "$ref":
// "io.k8s.api.core.v1.PodSpec#" is looked up by the id before "#".
//
// Output: one line per manifest, "ok  KIND NAME" or "FAIL KIND NAME: reason; reason", each
// reason starting with the path of the field at fault (spec.template.spec.containers[0].image).
// Exit status: 0 all ok, 1 some manifest failed, 2 bad usage or a file that cannot be read or
// parsed (or that holds no manifest).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// ---- 1. capture every JSON schema registered with kubernetes-models' Ajv -------------------
// The models are imported after Ajv.prototype.addSchema is wrapped; they register their
// schemas lazily (on the first validate()), so the order only matters for clarity.
const registry = new Map(); // schema id -> JSON schema
let yaml, core, apps, autoscalingV2, batch, rbac, networking, policy, istioV1beta1, istioV1alpha3;
try {
  const Ajv = (await import("ajv")).default;
  const originalAddSchema = Ajv.prototype.addSchema;
  Ajv.prototype.addSchema = function (schema, key, ...rest) {
    if (typeof key === "string" && schema && typeof schema === "object" && !Array.isArray(schema)) {
      registry.set(key, schema);
    }
    return originalAddSchema.call(this, schema, key, ...rest);
  };
  yaml = (await import("js-yaml")).default;
  core = await import("kubernetes-models/v1");
  apps = await import("kubernetes-models/apps/v1");
  autoscalingV2 = await import("kubernetes-models/autoscaling/v2");
  batch = await import("kubernetes-models/batch/v1");
  rbac = await import("kubernetes-models/rbac.authorization.k8s.io/v1");
  networking = await import("kubernetes-models/networking.k8s.io/v1");
  policy = await import("kubernetes-models/policy/v1");
  istioV1beta1 = await import("@kubernetes-models/istio/networking.istio.io/v1beta1");
  istioV1alpha3 = await import("@kubernetes-models/istio/networking.istio.io/v1alpha3");
} catch (e) {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  console.error(`validate.mjs: its npm packages are not installed in ${dir}/node_modules ` +
    `(run make test, or npm ci there): ${e.message}`);
  process.exit(77);
}

const MODELS = new Map();
function add(mod, kinds) {
  for (const kind of kinds) {
    const cls = mod[kind];
    if (!cls) throw new Error(`kubernetes-models has no ${kind}`);
    MODELS.set(`${cls.apiVersion} ${cls.kind}`, cls);
  }
}
add(core, ["Pod", "Service", "PersistentVolumeClaim", "ConfigMap", "Secret", "ServiceAccount",
  "Namespace", "Endpoints", "LimitRange", "ResourceQuota"]);
add(apps, ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);
add(autoscalingV2, ["HorizontalPodAutoscaler"]);
add(batch, ["Job", "CronJob"]);
add(rbac, ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
add(networking, ["Ingress", "NetworkPolicy"]);
add(policy, ["PodDisruptionBudget"]);
add(istioV1beta1, ["VirtualService", "DestinationRule", "Gateway"]);
add(istioV1alpha3, ["VirtualService", "DestinationRule", "Gateway"]);

function schemaIdOf(cls) {
  // @kubernetes-models/base's setSchema stores the id under a private Symbol("SCHEMA_ID").
  for (const sym of Object.getOwnPropertySymbols(cls.prototype)) {
    if (sym.description === "SCHEMA_ID" && typeof cls.prototype[sym] === "string") return cls.prototype[sym];
  }
  return null;
}

// ---- paths ----------------------------------------------------------------------------------
function join(base, key) {
  if (typeof key === "number") return `${base}[${key}]`;
  const plain = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key);
  if (!plain) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}
function pointerToPath(pointer) {
  // Ajv's instancePath is a JSON pointer: /spec/template/spec/containers/0/image
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out = join(out, /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return out || "(top level)";
}

// ---- check 1: the model's own validation ------------------------------------------------------
function modelErrors(cls, manifest) {
  try {
    new cls(manifest).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) return [`validation failed: ${e.message}`];
    // Group by path: a value that may take one of several forms (IntOrString, Quantity: a
    // oneOf) gives one error per form, merged here into "must be string or integer, got true".
    const byPath = new Map();
    const at = (pointer, data) => {
      const p = pointerToPath(pointer);
      if (!byPath.has(p)) byPath.set(p, { wants: [], others: [], data, hasData: false });
      const g = byPath.get(p);
      if (data !== undefined && !g.hasData) { g.data = data; g.hasData = true; }
      return g;
    };
    const push = (list, text) => { if (!list.includes(text)) list.push(text); };
    for (const err of e.errors) {
      const ptr = err.instancePath || "";
      switch (err.keyword) {
        case "required":
          push(at(ptr + "/" + err.params.missingProperty).others, "required field missing");
          break;
        case "additionalProperties":
          push(at(ptr + "/" + err.params.additionalProperty).others, "unknown field");
          break;
        case "type":
          push(at(ptr, err.data).wants, err.params.type);
          break;
        case "format":
          push(at(ptr, err.data).wants, `a valid ${err.params.format}`);
          break;
        case "enum":
          push(at(ptr, err.data).wants, `one of ${err.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`);
          break;
        case "oneOf":
        case "anyOf":
          at(ptr, err.data); // the alternatives' own errors say more
          break;
        default:
          push(at(ptr, err.data).others, err.message || err.keyword);
      }
    }
    const out = [];
    for (const [p, g] of byPath) {
      const parts = [...g.others];
      if (g.wants.length) parts.push(`must be ${g.wants.join(" or ")}, got ${JSON.stringify(g.data)}`);
      if (!parts.length) parts.push(`does not match its schema, got ${JSON.stringify(g.data)}`);
      out.push(`${p}: ${parts.join("; ")}`);
    }
    return out;
  }
}

// ---- check 2: unknown fields ------------------------------------------------------------------
function resolve(schema, seen = new Set()) {
  // A schema and every branch it may be (oneOf/anyOf/allOf, $ref followed), flattened.
  if (!schema || typeof schema !== "object") return [];
  if (typeof schema.$ref === "string") {
    const id = schema.$ref.replace(/#$/, "");
    if (seen.has(id)) return [];
    const target = registry.get(id);
    if (!target) throw new Error(`schema ${schema.$ref} was never registered (kubernetes-models changed?)`);
    return resolve(target, new Set([...seen, id]));
  }
  const out = [schema];
  for (const k of ["oneOf", "anyOf", "allOf"]) {
    if (Array.isArray(schema[k])) for (const b of schema[k]) out.push(...resolve(b, seen));
  }
  return out;
}

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function unknownFields(value, schema, where, out) {
  const branches = resolve(schema);
  if (Array.isArray(value)) {
    const items = branches.filter((b) => b.items).map((b) => b.items);
    if (!items.length) return;
    value.forEach((item, i) => unknownFields(item, { anyOf: items }, join(where, i), out));
    return;
  }
  if (!isPlainObject(value)) return; // strings and numbers: IntOrString, Quantity, ...
  // An object is closed when some branch declares properties, none allows more (a schema for
  // additionalProperties, or true), and the declaration is not empty (`properties: {}` is how
  // the Istio models write x-kubernetes-preserve-unknown-fields, e.g. status).
  const declared = new Map(); // property -> [schemas]
  let open = false, closedSeen = false;
  const extra = [];
  for (const b of branches) {
    if (b["x-kubernetes-preserve-unknown-fields"]) open = true;
    if (b.additionalProperties === true) open = true;
    else if (isPlainObject(b.additionalProperties)) extra.push(b.additionalProperties);
    if (isPlainObject(b.properties)) {
      const names = Object.keys(b.properties);
      if (names.length) closedSeen = true;
      for (const n of names) {
        if (!declared.has(n)) declared.set(n, []);
        declared.get(n).push(b.properties[n]);
      }
    }
  }
  for (const [key, v] of Object.entries(value)) {
    const here = join(where, key);
    if (declared.has(key)) {
      unknownFields(v, { anyOf: declared.get(key) }, here, out);
    } else if (extra.length) {
      unknownFields(v, { anyOf: extra }, here, out);
    } else if (closedSeen && !open) {
      const known = [...declared.keys()];
      const near = known.filter((k) => close(k, key));
      out.push(`${here}: unknown field` + (near.length ? ` (did you mean ${near.join(" or ")}?)` : ""));
    }
  }
}

function close(a, b) {
  // A different case, or one edit away (a letter added, dropped, changed, or two swapped):
  // replica/replicas, weigth/weight, Image/image.
  a = a.toLowerCase();
  b = b.toLowerCase();
  if (Math.abs(a.length - b.length) > 1) return false;
  const d = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { d[0].push(j); continue; }
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i].push(v);
    }
  }
  return d[a.length][b.length] <= 1;
}

// ---- one manifest -----------------------------------------------------------------------------
function check(manifest) {
  if (!isPlainObject(manifest)) {
    return { kind: "?", name: "?", reasons: [`not an object: ${JSON.stringify(manifest)}`] };
  }
  const kind = typeof manifest.kind === "string" && manifest.kind ? manifest.kind : "?";
  const meta = isPlainObject(manifest.metadata) ? manifest.metadata : {};
  const name = typeof meta.name === "string" && meta.name ? meta.name
    : typeof meta.generateName === "string" && meta.generateName ? meta.generateName + "*" : "?";
  const key = `${manifest.apiVersion} ${manifest.kind}`;
  const cls = MODELS.get(key);
  if (!cls) {
    const kinds = [...new Set([...MODELS.keys()].map((k) => k.split(" ")[1]))].sort();
    const versions = [...MODELS.keys()].filter((k) => k.endsWith(` ${manifest.kind}`)).map((k) => k.split(" ")[0]);
    const near = kinds.filter((k) => typeof manifest.kind === "string" && close(k, manifest.kind));
    const hint = versions.length ? ` (${manifest.kind} is known as ${versions.join(", ")})`
      : near.length ? ` (did you mean ${near.join(" or ")}?)`
      : ` (known kinds: ${kinds.join(", ")})`;
    return { kind, name, reasons: [`unknown apiVersion/kind ${JSON.stringify(manifest.apiVersion)} ` +
      `${JSON.stringify(manifest.kind)}${hint}`] };
  }
  const reasons = modelErrors(cls, manifest);
  if (name === "?") reasons.push("metadata.name: required field missing");
  const id = schemaIdOf(cls);
  const schema = id && registry.get(id);
  if (!schema) {
    throw new Error(`the JSON schema of ${key} (${id}) was not captured; the unknown-field check ` +
      "cannot run (did kubernetes-models change how it registers schemas?)");
  }
  const unknown = [];
  unknownFields(manifest, { $ref: id + "#" }, "", unknown);
  reasons.push(...unknown);
  return { kind, name, reasons };
}

// ---- files ------------------------------------------------------------------------------------
function manifestsOf(text, file) {
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  let docs;
  if (file.endsWith(".json") || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      docs = [JSON.parse(trimmed)];
    } catch (e) {
      if (file.endsWith(".json")) throw new Error(`invalid JSON: ${e.message}`);
      docs = null; // YAML flow style, perhaps
    }
  }
  if (!docs) {
    try {
      docs = yaml.loadAll(text, null, { filename: file });
    } catch (e) {
      throw new Error(`invalid YAML: ${e.message}`);
    }
  }
  const out = [];
  const expand = (d) => {
    if (d === null || d === undefined) return; // empty YAML document
    if (Array.isArray(d)) d.forEach(expand);
    else if (isPlainObject(d) && Array.isArray(d.manifests) && d.kind === undefined) d.manifests.forEach(expand);
    else if (isPlainObject(d) && d.kind === "List" && Array.isArray(d.items)) d.items.forEach(expand);
    else out.push(d);
  };
  docs.forEach(expand);
  return out;
}

const files = process.argv.slice(2);
if (!files.length || files.some((f) => f === "-h" || f === "--help")) {
  console.error("usage: node validate.mjs FILE...   (JSON or YAML manifests; - for standard input)");
  process.exit(2);
}

let failed = false, broken = false;
for (const file of files) {
  let manifests;
  try {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    manifests = manifestsOf(text, file);
    if (!manifests.length) throw new Error("no manifests in it");
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    broken = true;
    continue;
  }
  for (const m of manifests) {
    let r;
    try {
      r = check(m);
    } catch (e) {
      console.error(`${file}: ${e.message}`);
      broken = true;
      continue;
    }
    if (r.reasons.length) {
      failed = true;
      console.log(`FAIL ${r.kind} ${r.name}: ${r.reasons.join("; ")}`);
    } else {
      console.log(`ok  ${r.kind} ${r.name}`);
    }
  }
}
process.exit(broken ? 2 : failed ? 1 : 0);
