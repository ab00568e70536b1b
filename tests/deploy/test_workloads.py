"""Every MIMIS process, in every overlay: a hardened Deployment (probes, requests and limits, the
restricted security context, a read-only root filesystem with an emptyDir /tmp), a Service, a ConfigMap
with the service's own prefix, an HPA, a PDB and a NetworkPolicy allowing only what the design needs;
and the settings the pod gets are ones the service reads and accepts in production."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from mimis_platform.contracts.k8s_workloads import (
    HTTP_PORT,
    INGRESS_NAMESPACE_LABEL,
    NON_PUBLIC_RANGES,
    PUBLIC_HOST,
    SERVICES,
    WORKLOADS,
    Workload,
)
from tests.deploy.conftest import Rendered

Resource = dict[str, Any]
NAMES = [w.name for w in WORKLOADS]


def _workload(name: str) -> Workload:
    return next(w for w in WORKLOADS if w.name == name)


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _pod(rendered: Rendered, name: str) -> Resource:
    pod: Resource = rendered.get("Deployment", name)["spec"]["template"]
    return pod


def _container(rendered: Rendered, name: str) -> Resource:
    [container] = _pod(rendered, name)["spec"]["containers"]
    return container


@pytest.mark.parametrize("name", NAMES)
def test_the_deployment_runs_the_process_with_probes_and_limits(rendered: Rendered, name: str) -> None:
    w = _workload(name)
    deployment = rendered.get("Deployment", name)
    assert "replicas" not in deployment["spec"], "the HPA owns replicas; an apply must not reset them"
    assert _matches(deployment["spec"]["selector"]["matchLabels"], _pod(rendered, name)["metadata"]["labels"])
    c = _container(rendered, name)
    assert c["command"] == ["python", "-m", w.module]
    assert c["ports"] == [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) == {"cpu", "memory"}, f"{name}: {kind} for cpu and memory"
    assert ":" in c["image"] or "@" in c["image"], f"{name}: the overlay pins the image tag or digest"
    assert not c["image"].endswith(":latest")


@pytest.mark.parametrize("name", NAMES)
def test_the_pod_meets_the_restricted_pod_security_standard(rendered: Rendered, name: str) -> None:
    spec = _pod(rendered, name)["spec"]
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    for c in spec["containers"] + spec.get("initContainers", []):
        s = c["securityContext"]
        assert s["runAsNonRoot"] is True
        assert s["allowPrivilegeEscalation"] is False
        assert s["readOnlyRootFilesystem"] is True
        assert s["capabilities"] == {"drop": ["ALL"]}
        assert s["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not s.get("privileged")
    volumes = {v["name"]: v for v in spec["volumes"]}
    [tmp] = [m for c in spec["containers"] for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]], "a writable /tmp on a read-only root filesystem"
    assert not any("hostPath" in v for v in volumes.values())


@pytest.mark.parametrize("name", NAMES)
def test_service_hpa_and_pdb_select_the_pods(rendered: Rendered, name: str) -> None:
    labels = _pod(rendered, name)["metadata"]["labels"]
    svc = rendered.get("Service", name)
    assert _matches(svc["spec"]["selector"], labels)
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    hpa = rendered.get("HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    if rendered.overlay == "prod":
        assert hpa["spec"]["minReplicas"] >= 2, "production survives a node drain with no gap in service"
    pdb = rendered.get("PodDisruptionBudget", name)
    assert _matches(pdb["spec"]["selector"]["matchLabels"], labels)
    assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]


# -- settings -----------------------------------------------------------------------------------


def _settings_class(w: Workload) -> type[BaseSettings]:
    module = importlib.import_module(f"{w.module}.settings")
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, BaseSettings)
                and value.model_config.get("env_prefix") == w.env_prefix):
            return value
    raise AssertionError(f"no settings class with prefix {w.env_prefix} in {w.module}.settings")


def _environment(rendered: Rendered, w: Workload) -> dict[str, str]:
    """The pod's environment, secrets replaced by stand-ins (the real ones live only in the cluster)."""
    c = _container(rendered, w.name)
    [source] = c["envFrom"]
    configmap = rendered.configmap(f"{w.name}-config")
    assert source["configMapRef"]["name"] == configmap["metadata"]["name"]
    env = dict(configmap["data"])
    for var in c.get("env", []):
        ref = var["valueFrom"].get("configMapKeyRef") or var["valueFrom"].get("secretKeyRef")
        env[var["name"]] = _STAND_INS.get(ref["key"], f"stand-in-for-{var['name']}")
    return env


# What ops put in the per-environment ConfigMaps and Secrets, for the settings whose type is not text.
_STAND_INS = {"jwks": '{"keys": []}', "port": "587", "starttls": "true", "token-url": "https://login.example/token"}


@pytest.mark.parametrize("name", NAMES)
def test_every_setting_has_the_service_prefix_and_is_read_by_the_service(rendered: Rendered, name: str) -> None:
    w = _workload(name)
    env = _environment(rendered, w)
    fields = set(_settings_class(w).model_fields)
    for key in env:
        assert key.startswith(w.env_prefix), f"{key} lacks the {w.env_prefix} prefix"
    unknown = {key.removeprefix(w.env_prefix).lower() for key in env} - fields
    assert not unknown, f"{name} ignores {sorted(unknown)}: a typo, or a setting the code lacks"


@pytest.mark.parametrize("name", NAMES)
def test_the_service_accepts_its_configuration(
    rendered: Rendered, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _workload(name)
    env = _environment(rendered, w)
    expected = "production" if rendered.overlay == "prod" else "development"
    assert env[f"{w.env_prefix}ENVIRONMENT"] == expected
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings: Any = _settings_class(w)()  # production refuses development secrets and an empty JWKS
    assert settings.environment == expected
    assert settings.http_host == "0.0.0.0" and settings.http_port == HTTP_PORT
    assert settings.trace_exporter == "otlp" and settings.otlp_endpoint.endswith(":4318")
    if w.uses_kafka:
        assert (settings.consumer_group or settings.service_name) == w.name, "the group the ACLs grant"
        assert settings.mongo_database == w.name
    if w.calls_services:
        for s in SERVICES:
            assert getattr(settings, f"{s.name}_url") == f"http://{s.name}"


# -- network policies ---------------------------------------------------------------------------


def _pods_of(rendered: Rendered) -> list[dict[str, str]]:
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in rendered.of_kind("Deployment")]
    for mongodb in rendered.of_kind("MongoDBCommunity"):
        labels.append(mongodb["spec"]["statefulSet"]["spec"]["template"]["metadata"]["labels"])
    return labels


@pytest.mark.parametrize("name", NAMES)
def test_the_network_policy_allows_only_what_the_design_needs(rendered: Rendered, name: str) -> None:
    w = _workload(name)
    policy = rendered.get("NetworkPolicy", name)["spec"]
    assert _matches(policy["podSelector"]["matchLabels"], _pod(rendered, name)["metadata"]["labels"])
    assert policy["policyTypes"] == ["Ingress", "Egress"], "deny by default, both ways"

    from_ingress = {"namespaceSelector": {"matchLabels": {INGRESS_NAMESPACE_LABEL: "true"}}}
    peers: list[Any] = []
    for ingress in policy["ingress"]:
        assert ingress["ports"] == [{"protocol": "TCP", "port": HTTP_PORT}]
        peers.extend(ingress["from"])
    if w.calls_services:
        assert peers == [from_ingress], "gateway <- ingress"
    else:
        callers = sorted(p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in peers if "podSelector" in p)
        assert callers == sorted(["gateway", *(c.name for c in WORKLOADS if name in c.calls)]), "services <- callers"
        assert (from_ingress in peers) == bool(w.public_paths), "only services with public paths <- ingress"

    reached: dict[str, set[int]] = {}
    pods = _pods_of(rendered)
    for rule in policy["egress"]:
        assert rule.get("to") and rule.get("ports"), f"{name}: an egress rule without peers or ports allows too much"
        ports = {p["port"] for p in rule["ports"]}
        for to in rule["to"]:
            if "ipBlock" in to:
                key = "internet" if to["ipBlock"].get("except") else "any-address"
            elif "namespaceSelector" in to:
                key = "dns"
            else:
                selector = to["podSelector"]["matchLabels"]
                key = selector.get("app.kubernetes.io/name") or selector.get("strimzi.io/kind", "?")
                if "strimzi.io/kind" not in selector:
                    assert any(_matches(selector, p) for p in pods), f"{name}: {selector} selects no pod"
            reached.setdefault(key, set()).update(ports)
    expected: dict[str, set[int]] = {"dns": {53}, "otel-collector": {4318}}
    if w.calls_services:
        expected.update({s.name: {HTTP_PORT} for s in SERVICES})
    expected.update({callee: {HTTP_PORT} for callee in w.calls})
    if w.uses_kafka:
        expected["Kafka"] = {9093}
    if w.uses_mongodb:
        expected["mongodb"] = {27017}
    if w.outbound_internet:
        expected["internet"] = {443}  # webhooks
        expected["any-address"] = {587}  # the SMTP relay
    elif w.identity_egress:
        expected["any-address"] = {443}  # the identity provider's token endpoint
    assert reached == expected


def test_only_notifications_reaches_the_internet_and_never_private_ranges(rendered: Rendered) -> None:
    for w in WORKLOADS:
        blocks = [to["ipBlock"] for rule in rendered.get("NetworkPolicy", w.name)["spec"]["egress"]
                  for to in rule["to"] if "ipBlock" in to]
        assert bool(blocks) == (w.name == "notifications" or w.identity_egress), w.name
        if w.identity_egress and not w.outbound_internet:  # the token endpoint only: HTTPS
            assert [rule["ports"] for rule in rendered.get("NetworkPolicy", w.name)["spec"]["egress"]
                    if any("ipBlock" in to for to in rule["to"])] == [[{"port": 443, "protocol": "TCP"}]], w.name
        for block in blocks:
            if block.get("except"):
                assert set(block["except"]) >= set(NON_PUBLIC_RANGES)


def test_every_mimis_pod_is_covered_by_a_network_policy(rendered: Rendered) -> None:
    selectors = [p["spec"]["podSelector"].get("matchLabels", {}) for p in rendered.of_kind("NetworkPolicy")]
    for labels in _pods_of(rendered):
        assert any(_matches(s, labels) for s in selectors), f"no NetworkPolicy selects pods labelled {labels}"


def test_the_ingress_routes_public_paths_to_their_service_and_the_rest_to_the_gateway(rendered: Rendered) -> None:
    [ingress] = rendered.of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    host = rule["host"]
    assert ingress["spec"]["tls"][0]["hosts"] == [host]
    assert (host == PUBLIC_HOST) == (rendered.overlay == "prod")
    routes = {p["path"]: (p["pathType"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]}
    expected = {"/": ("Prefix", "gateway")}
    for w in WORKLOADS:
        expected.update({path: ("Prefix" if path.endswith("/") else "Exact", w.name) for path in w.public_paths})
    assert routes == expected
    # The credentials name this host (did:web) and these URLs; a verifier reaches exactly them.
    issuance = rendered.configmap("issuance-config")["data"]
    assert issuance["ISSUANCE_ISSUER_DOMAIN"] == host
    assert issuance["ISSUANCE_PUBLIC_BASE_URL"] == f"https://{host}"
