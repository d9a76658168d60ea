"""Every rendered object against the real schemas: built-in kinds strictly against
Kubernetes' OpenAPI (kubernetes-validate), ExternalSecret against the ESO CRD's
v1 structural schema with unknown fields forbidden (a real API server prunes them)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from conftest import VALUES_FILES, require_module, values_id

# The oldest Kubernetes the generated chart allows (Chart.yaml kubeVersion) and the
# version the refresher is built against (k8s-openapi v1_33).
KUBERNETES_VERSIONS = ["1.27", "1.33"]
CUSTOM_KINDS = {("external-secrets.io/v1", "ExternalSecret")}
ESO_CRD = "schemas/external-secrets.io_externalsecrets.yaml"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# metadata.name limits beyond DNS-1123 subdomain (253): a CronJob's Jobs get an
# 11-character suffix and a Job's name becomes a 63-character label value.
NAME_LIMITS = {"CronJob": 52, "Job": 63, "ServiceAccount": 253, "ConfigMap": 253}


@pytest.fixture(scope="session")
def kubernetes_validate():
    return require_module("kubernetes_validate")


@pytest.fixture(scope="session")
def external_secret_validator(shared_dir: Path, yaml):
    jsonschema = require_module("jsonschema")
    crd_path = shared_dir / ESO_CRD
    if not crd_path.is_file():
        pytest.fail(f"ExternalSecret CRD not found at {crd_path} (set ECR_SHARED_DIR)", pytrace=False)
    crd = yaml.safe_load(crd_path.read_text(encoding="utf-8"))
    [v1] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    assert v1["served"], "the ESO CRD no longer serves v1"
    schema = closed(v1["schema"]["openAPIV3Schema"])
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def closed(schema):
    """OpenAPI v3 structural schema -> JSON Schema that forbids fields it does not list."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) if k in {"items", "allOf", "anyOf", "oneOf", "not"} else v for k, v in schema.items()}
    if "properties" in schema:
        out["properties"] = {name: closed(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = closed(schema["additionalProperties"])
    if schema.get("nullable") and "type" in schema:
        out["type"] = [schema["type"], "null"]
    return out


def _objects(documents, values):
    return [(f"{d['kind']}/{d['metadata']['name']}", d) for d in documents(values)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_every_built_in_object_validates_strictly_against_kubernetes(
    documents, kubernetes_validate, values, version
):
    failures = []
    for name, doc in _objects(documents, values):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        try:
            validated = kubernetes_validate.validate(doc, version, strict=True)
            assert validated == version, f"{name} checked against {validated}, not {version}"
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as err:
            failures.append(f"{name}: {getattr(err, 'message', err)} at {list(getattr(err, 'path', []))}")
    assert failures == []


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_every_external_secret_validates_against_the_eso_v1_crd(
    documents, external_secret_validator, kubernetes_validate, values
):
    failures = []
    for name, doc in _objects(documents, values):
        if doc["kind"] != "ExternalSecret":
            continue
        assert doc["apiVersion"] == "external-secrets.io/v1", name
        for err in external_secret_validator.iter_errors(doc):
            failures.append(f"{name}: {err.message} at {list(err.absolute_path)}")
        # The CRD leaves metadata open; the API server checks it as ObjectMeta.
        as_configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]}
        try:
            kubernetes_validate.validate(as_configmap, KUBERNETES_VERSIONS[-1], strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{name} metadata: {err.message}")
    assert failures == []


def test_the_external_secret_check_refuses_unknown_and_misspelled_fields(
    documents, external_secret_validator
):
    [doc, *_] = [d for d in documents(None) if d["kind"] == "ExternalSecret"]
    unknown = copy.deepcopy(doc)
    unknown["spec"]["target"]["notAField"] = True
    misspelled = copy.deepcopy(doc)
    misspelled["spec"]["secretStoreRef"]["kind"] = "SecretStor"

    assert not external_secret_validator.is_valid(unknown)
    assert not external_secret_validator.is_valid(misspelled)
    assert external_secret_validator.is_valid(doc)


def test_the_kubernetes_check_is_strict_about_unknown_fields(documents, kubernetes_validate):
    [cronjob, *_] = [d for d in documents(None) if d["kind"] == "CronJob"]
    bad = copy.deepcopy(cronjob)
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSIONS[-1], strict=True)


def _metadata(doc: dict):
    yield "metadata", doc["metadata"]
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        yield "spec.jobTemplate.metadata", spec["jobTemplate"].get("metadata") or {}
        yield "spec.jobTemplate.spec.template.metadata", spec["jobTemplate"]["spec"]["template"].get("metadata") or {}
    if doc["kind"] == "Job":
        yield "spec.template.metadata", spec["template"].get("metadata") or {}


def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix is not a DNS-1123 subdomain"
    if len(name) > 63 or not QUALIFIED_NAME.match(name):
        return "name is not a qualified name (63 chars, alphanumerics, '-', '_', '.')"
    return None


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_every_name_label_and_annotation_key_is_one_the_api_server_accepts(documents, values):
    failures = []
    for name, doc in _objects(documents, values):
        meta_name = doc["metadata"]["name"]
        limit = NAME_LIMITS.get(doc["kind"], 253)
        if len(meta_name) > limit or not DNS1123_SUBDOMAIN.match(meta_name):
            failures.append(f"{name}: name is not a DNS-1123 subdomain of at most {limit} characters")
        namespace = doc["metadata"].get("namespace")
        if namespace is not None and (len(namespace) > 63 or not DNS1123_LABEL.match(namespace)):
            failures.append(f"{name}: namespace {namespace!r} is not a DNS-1123 label")
        for where, meta in _metadata(doc):
            for key, value in (meta.get("labels") or {}).items():
                if problem := _key_problem(key):
                    failures.append(f"{name} {where}.labels[{key!r}]: {problem}")
                if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
                    failures.append(f"{name} {where}.labels[{key!r}]: {value!r} is not a label value")
            for key, value in (meta.get("annotations") or {}).items():
                if problem := _key_problem(key):
                    failures.append(f"{name} {where}.annotations[{key!r}]: {problem}")
                if not isinstance(value, str):
                    failures.append(f"{name} {where}.annotations[{key!r}]: {value!r} is not a string")
    assert failures == []
