// Validates PrometheusRules against the Prometheus Operator's monitoring.coreos.com/v1 schema,
// as shipped by npm @kubernetes-models/prometheus-operator (ajv validators generated from the
// operator's CRDs).
//
// Protocol, as validate-external-secrets.mjs: each line on stdin is a JSON array of objects;
// for each line, one line on stdout: a JSON array with, per object, the list of its problems
// ([] when it is valid). A problem is "<JSON pointer>: <message>".
//
// The validators allow fields the schema does not list; the API server prunes them from a
// custom resource, so they are problems here: every key of the object must be one the
// validator looked at (see validate-external-secrets.mjs for how reads are tracked).

import { createInterface } from "node:readline";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const isObject = (value) => value !== null && typeof value === "object";

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

function unknownFields(value, reads, path = []) {
  if (!isObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFields(item, reads, [...path, i]));
  const seen = reads.get(value) ?? new Set();
  return Object.entries(value).flatMap(([key, child]) =>
    seen.has(key)
      ? unknownFields(child, reads, [...path, key])
      : [`${pointer([...path, key])}: field not in the PrometheusRule v1 schema`],
  );
}

function problems(object) {
  const reads = new WeakMap();
  let errors = [];
  try {
    PrometheusRule.prototype.validate.call(tracked(object, reads));
  } catch (err) {
    if (!Array.isArray(err.errors)) throw err;
    errors = err.errors.map((e) => {
      const allowed = e.params?.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : "";
      return `${e.instancePath || "/"}: ${e.message}${allowed}`;
    });
  }
  return [...errors, ...unknownFields(object, reads)];
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  const objects = JSON.parse(line);
  process.stdout.write(`${JSON.stringify(objects.map(problems))}\n`);
}
