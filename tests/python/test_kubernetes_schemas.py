"""Every rendered object against the real schemas: built-in kinds strictly against
Kubernetes' OpenAPI (kubernetes-validate), ExternalSecret against External Secrets
Operator's external-secrets.io/v1 schema (npm @kubernetes-models/external-secrets, see
tests/schemas) with unknown fields forbidden (a real API server prunes them)."""

from __future__ import annotations

import copy
import re

import pytest
from conftest import VALUES_FILES, require_module, values_id

# The oldest Kubernetes the generated chart allows (Chart.yaml kubeVersion) and the
# version the refresher is built against (k8s-openapi v1_33).
KUBERNETES_VERSIONS = ["1.27", "1.33"]
CUSTOM_KINDS = {("external-secrets.io/v1", "ExternalSecret"), ("monitoring.coreos.com/v1", "PrometheusRule")}

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
def test_every_external_secret_validates_against_the_eso_v1_schema(
    documents, custom_resource_problems, kubernetes_validate, values
):
    failures = []
    secrets = [(name, doc) for name, doc in _objects(documents, values) if doc["kind"] == "ExternalSecret"]
    for name, doc in secrets:
        assert doc["apiVersion"] == "external-secrets.io/v1", name
    for (name, _), problems in zip(secrets, custom_resource_problems([doc for _, doc in secrets]), strict=True):
        failures.extend(f"{name}: {problem}" for problem in problems)
    for name, doc in secrets:
        # ObjectMeta again, as the API server checks it (strictly, with Kubernetes' schema).
        as_configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]}
        try:
            kubernetes_validate.validate(as_configmap, KUBERNETES_VERSIONS[-1], strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{name} metadata: {err.message}")
    assert failures == []


def test_the_external_secret_check_refuses_unknown_misspelled_and_mistyped_fields(
    documents, custom_resource_problems
):
    [doc, *_] = [d for d in documents(None) if d["kind"] == "ExternalSecret"]
    unknown = copy.deepcopy(doc)
    unknown["spec"]["target"]["notAField"] = True
    misspelled = copy.deepcopy(doc)
    misspelled["spec"]["secretStoreRef"]["kind"] = "SecretStor"
    mistyped = copy.deepcopy(doc)
    mistyped["spec"]["refreshInterval"] = 3600
    missing = copy.deepcopy(doc)
    del missing["spec"]["data"][0]["remoteRef"]
    old_version = copy.deepcopy(doc)
    old_version["apiVersion"] = "external-secrets.io/v1beta1"

    assert custom_resource_problems([doc, unknown, misspelled, mistyped, missing, old_version]) == [
        [],
        ["/spec/target/notAField: field not in the ExternalSecret v1 schema"],
        ["/spec/secretStoreRef/kind: must be equal to one of the allowed values (SecretStore, ClusterSecretStore)"],
        ["/spec/refreshInterval: must be string"],
        ["/spec/data/0: must have required property remoteRef"],
        ["/apiVersion: must be equal to one of the allowed values (external-secrets.io/v1)"],
    ]


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
