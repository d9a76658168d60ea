"""Every pod template passes the Pod Security Standards "restricted" profile
(https://kubernetes.io/docs/concepts/security/pod-security-standards/, v1.33),
so a namespace enforcing it admits the CronJobs and Jobs without a warning."""

from __future__ import annotations

import copy

import pytest
from conftest import VALUES_FILES, pod_specs, values_id

ALLOWED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
    "persistentVolumeClaim", "projected", "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def restricted_violations(pod: dict) -> list[str]:
    """What the "restricted" profile refuses in a pod spec (baseline checks included)."""
    found: list[str] = []
    psc = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            found.append(f"{field} is set")
    for volume in pod.get("volumes") or []:
        types = set(volume) - {"name"}
        if not types <= ALLOWED_VOLUME_TYPES:
            found.append(f"volume {volume.get('name')!r} has a disallowed type {sorted(types - ALLOWED_VOLUME_TYPES)}")
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            found.append(f"unsafe sysctl {sysctl.get('name')}")
    if (psc.get("seLinuxOptions") or {}).get("type", "") not in SELINUX_TYPES:
        found.append("pod seLinuxOptions.type not allowed")
    if (psc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("pod seccompProfile is Unconfined")
    if psc.get("runAsUser") == 0:
        found.append("pod runAsUser is 0")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("pod windowsOptions.hostProcess")

    containers = [
        (kind, c)
        for kind in ("initContainers", "containers", "ephemeralContainers")
        for c in pod.get(kind) or []
    ]
    if not pod.get("containers"):
        found.append("no containers")
    for kind, c in containers:
        where = f"{kind}[{c.get('name')}]"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{where} is privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where} allowPrivilegeEscalation is not false")
        if not (sc.get("runAsNonRoot") is True or (psc.get("runAsNonRoot") is True and sc.get("runAsNonRoot") is not False)):
            found.append(f"{where} runAsNonRoot is not true")
        if sc.get("runAsUser") == 0:
            found.append(f"{where} runAsUser is 0")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            found.append(f"{where} seccompProfile is {seccomp!r}, not RuntimeDefault or Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{where} does not drop ALL capabilities")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{where} adds capabilities {caps['add']}")
        if any(p.get("hostPort") for p in c.get("ports") or []):
            found.append(f"{where} uses a hostPort")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{where} procMount is not Default")
        if (sc.get("seLinuxOptions") or {}).get("type", "") not in SELINUX_TYPES:
            found.append(f"{where} seLinuxOptions.type not allowed")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where} windowsOptions.hostProcess")
    return found


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_every_pod_template_passes_the_restricted_pod_security_profile(documents, values):
    docs = documents(values)
    pods = [(f"{d['kind']}/{d['metadata']['name']} {path}", spec) for d in docs for path, spec in pod_specs(d)]
    assert [d for d in docs if d["kind"] == "CronJob"], "no CronJob rendered: nothing checked"
    assert len(pods) == sum(d["kind"] in {"CronJob", "Job", "Pod"} for d in docs)

    problems = {where: found for where, pod in pods if (found := restricted_violations(pod))}

    assert problems == {}


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_pods_are_hardened_beyond_the_profile_by_default(documents, values):
    for doc in documents(values):
        for where, pod in pod_specs(doc):
            assert pod["securityContext"].get("runAsUser", 65532) != 0, where
            for c in pod["containers"]:
                assert c["securityContext"].get("readOnlyRootFilesystem") is True, f"{doc['metadata']['name']} {c['name']}"
            assert pod.get("automountServiceAccountToken") is not False, "the refresher needs its token"


@pytest.mark.parametrize(
    "breakage,expected",
    [
        (lambda p: p.update(hostNetwork=True), "hostNetwork"),
        (lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "disallowed type"),
        (lambda p: p["containers"][0]["securityContext"].update(privileged=True), "privileged"),
        (lambda p: p["containers"][0]["securityContext"].update(allowPrivilegeEscalation=True), "allowPrivilegeEscalation"),
        (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=[]), "drop ALL"),
        (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]), "adds capabilities"),
        (lambda p: (p["securityContext"].pop("runAsNonRoot"), p["containers"][0]["securityContext"].pop("runAsNonRoot", None)), "runAsNonRoot"),
        (lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}), "Unconfined"),
    ],
    ids=["hostNetwork", "hostPath", "privileged", "escalation", "no-drop-all", "add-cap", "root", "unconfined"],
)
def test_the_restricted_check_catches_each_kind_of_breakage(breakage, expected):
    pod = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        "containers": [{
            "name": "c",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }],
    }
    assert restricted_violations(pod) == []
    broken = copy.deepcopy(pod)
    breakage(broken)

    assert any(expected in v for v in restricted_violations(broken)), restricted_violations(broken)
