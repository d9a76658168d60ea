// Validates custom resources against their operators' schemas, as shipped by npm
// @kubernetes-models packages (ajv validators generated from the operators' Go API types or
// CRDs): External Secrets Operator's ExternalSecret (external-secrets.io/v1) and the Prometheus
// Operator's PrometheusRule (monitoring.coreos.com/v1). Each object is checked by its `kind`.
//
// Protocol (one process serves a whole test session): each line on stdin is a JSON array of
// objects; for each line, one line on stdout: a JSON array with, per object, the list of its
// problems ([] when it is valid). A problem is "<JSON pointer>: <message>".
//
// The generated validators check types, enums, patterns and required fields but, like the
// models, allow fields the schema does not list. A real API server prunes such fields from a
// custom resource, so they are problems here: every key of the object must be one the
// validator looked at (properties it lists are read by name; maps are iterated, which reads
// every key).

import { createInterface } from "node:readline";
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

// Per kind: the model whose validator is run, and the schema named in messages.
const MODELS = {
  ExternalSecret: { model: ExternalSecret, schema: "ExternalSecret v1" },
  PrometheusRule: { model: PrometheusRule, schema: "PrometheusRule v1" },
};

const isObject = (value) => value !== null && typeof value === "object";

// A view of `value` that records, per object, which keys were read.
function tracked(value, reads, views = new WeakMap()) {
  if (!isObject(value)) return value;
  if (views.has(value)) return views.get(value);
  const seen = new Set();
  reads.set(value, seen);
  const view = new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === "string") seen.add(key);
      return tracked(Reflect.get(target, key, receiver), reads, views);
    },
  });
  views.set(value, view);
  return view;
}

const pointer = (path) => path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");

function unknownFields(value, reads, schema, path = []) {
  if (!isObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFields(item, reads, schema, [...path, i]));
  const seen = reads.get(value) ?? new Set();
  return Object.entries(value).flatMap(([key, child]) =>
    seen.has(key)
      ? unknownFields(child, reads, schema, [...path, key])
      : [`${pointer([...path, key])}: field not in the ${schema} schema`],
  );
}

// The validators collect every error (they do not stop at the first), so each field is
// looked at even when another is wrong.
function problems(object) {
  const known = MODELS[object?.kind];
  if (known === undefined) return [`/kind: no schema here for kind ${JSON.stringify(object?.kind)}`];
  const reads = new WeakMap();
  let errors = [];
  try {
    known.model.prototype.validate.call(tracked(object, reads));
  } catch (err) {
    if (!Array.isArray(err.errors)) throw err;
    errors = err.errors.map((e) => {
      const allowed = e.params?.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : "";
      return `${e.instancePath || "/"}: ${e.message}${allowed}`;
    });
  }
  return [...errors, ...unknownFields(object, reads, known.schema)];
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  const objects = JSON.parse(line);
  process.stdout.write(`${JSON.stringify(objects.map(problems))}\n`);
}
