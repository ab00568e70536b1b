"""Kubernetes resources of the MIMIS processes, generated from one table so that every service gets
the same hardened shape: a Deployment (probes, requests and limits, the restricted security context,
a read-only root filesystem), a Service, a ConfigMap with the service's own ``<PREFIX>_`` settings, a
HorizontalPodAutoscaler, a PodDisruptionBudget and a NetworkPolicy that allows only the traffic the
design needs (the MongoDB replica set with a user per service is in ``k8s_mongodb``).

Written under ``deploy/k8s/base`` by ``python -m mimis_platform.contracts.k8s --write``; the
overlays (``deploy/k8s/overlays/{dev,prod}``) patch sizes and replicas, never the shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from mimis_platform.contracts.k8s import CLUSTER

Resource = dict[str, Any]

IMAGE = "mimis"  # the overlays pin registry and tag (or digest) with kustomize's `images:`
HTTP_PORT = 8080
UID = 10001  # the image's non-root user (deploy/container/Containerfile)
KAFKA_BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap:9093"  # Strimzi's TLS listener, SCRAM-SHA-512
KAFKA_CA_SECRET = f"{CLUSTER}-cluster-ca-cert"  # Strimzi's cluster CA certificate
KAFKA_CA_DIR = "/etc/mimis/kafka-ca"
MONGODB = "mimis-mongodb"  # the MongoDBCommunity resource
OTLP_ENDPOINT = "http://otel-collector:4318"
#: The public host name (Ingress, TLS, did:web); overlays and ops set the real one (deploy/RUNBOOK.md).
PUBLIC_HOST = "api.mimis.example"
#: The organisation's SMTP relay (host, port, username, starttls, from), per environment, created by ops.
MAIL_CONFIGMAP = "mimis-mail"
IDENTITY_CONFIGMAP = "mimis-identity"  # the identity provider's issuer and JWKS (public, per environment)

PART_OF = "app.kubernetes.io/part-of"
NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
KAFKA_CLIENT = "mimis.skane.se/kafka-client"
MONGODB_CLIENT = "mimis.skane.se/mongodb-client"
#: The namespace of the cluster's ingress controller carries this label (see deploy/RUNBOOK.md).
INGRESS_NAMESPACE_LABEL = "mimis.skane.se/ingress-controller"

#: Private, loopback, link-local and carrier-grade NAT ranges: webhooks go to the public internet only
#: (the notifications service's SSRF guard says the same in code).
NON_PUBLIC_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
                     "127.0.0.0/8")


@dataclass(frozen=True)
class Workload:
    """One MIMIS process: what it runs, what it reaches, how big it is."""

    name: str
    module: str  # `python -m <module>`
    env_prefix: str
    uses_kafka: bool = True
    uses_mongodb: bool = True
    has_secret_key: bool = True
    verifies_tokens: bool = True  # reads AUTH_ISSUER / AUTH_JWKS
    calls_services: bool = False  # the gateway
    outbound_internet: bool = False  # webhooks (443) and SMTP submission (587)
    # Service tokens from the identity provider's token endpoint (HTTPS, inside or outside the
    # organisation), for the services it ``calls``; implied by outbound_internet.
    identity_egress: bool = False
    cpu_request: str = "100m"
    cpu_limit: str = "1"
    memory_request: str = "384Mi"
    memory_limit: str = "512Mi"
    min_replicas: int = 2
    max_replicas: int = 6
    # Other MIMIS services it calls over HTTP (notifications asks issuance for a learner's address).
    calls: tuple[str, ...] = ()
    # Paths the Ingress sends straight to it (issuance: the DID document, JWKS, status lists, shares).
    public_paths: tuple[str, ...] = ()
    # Settings from its own `<name>-app` Secret: (setting, key); and non-secret ones: (setting, value).
    app_secrets: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    # Settings from the per-environment ConfigMaps ops create: (setting, configmap, key).
    environment_settings: tuple[tuple[str, str, str], ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        return {NAME: self.name, PART_OF: "mimis", COMPONENT: "gateway" if self.calls_services else "service"}

    @property
    def selector(self) -> dict[str, str]:
        return {NAME: self.name, PART_OF: "mimis"}


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        # Kafka: live events for subscriptions; MongoDB: partners' API keys (hashed with the secret key).
        "gateway", "gateway", "GATEWAY_", calls_services=True, max_replicas=10,
    ),
    Workload("catalog", "services.catalog", "CATALOG_"),
    Workload("quality", "services.quality", "QUALITY_"),
    # Verification arrives in bursts of hundreds per second: HTTP load, not partitions, bounds it.
    Workload(
        "issuance", "services.issuance", "ISSUANCE_", max_replicas=10,
        # did:web:<PUBLIC_HOST> resolves to https://<PUBLIC_HOST>/.well-known/did.json; verifiers anywhere
        # fetch the keys and status lists without an account.
        public_paths=("/.well-known/did.json", "/.well-known/jwks.json", "/v1/status-lists/", "/v1/shared/"),
        # A learner's export asks notifications for its part, with a service token.
        calls=("notifications",), identity_egress=True,
        app_secrets=(("KEY_ENCRYPTION_KEY", "key-encryption-key"), ("LEARNER_LOOKUP_KEY", "learner-lookup-key"),
                     ("CLIENT_SECRET", "client-secret")),
        settings=(("ISSUER_DOMAIN", PUBLIC_HOST), ("PUBLIC_BASE_URL", f"https://{PUBLIC_HOST}"),
                  ("CATALOGUE_BASE_URL", f"https://{PUBLIC_HOST}"), ("NOTIFICATIONS_URL", "http://notifications")),
        environment_settings=(("TOKEN_URL", IDENTITY_CONFIGMAP, "token-url"),),
    ),
    Workload(
        "notifications", "services.notifications", "NOTIFICATIONS_", outbound_internet=True, calls=("issuance",),
        app_secrets=(("CLIENT_SECRET", "client-secret"), ("SMTP_PASSWORD", "smtp-password")),
        settings=(("ISSUANCE_URL", "http://issuance"),),
        environment_settings=(("TOKEN_URL", IDENTITY_CONFIGMAP, "token-url"),
                              ("SMTP_HOST", MAIL_CONFIGMAP, "host"), ("SMTP_PORT", MAIL_CONFIGMAP, "port"),
                              ("SMTP_USERNAME", MAIL_CONFIGMAP, "username"),
                              ("SMTP_STARTTLS", MAIL_CONFIGMAP, "starttls"), ("MAIL_FROM", MAIL_CONFIGMAP, "from")),
    ),
)

SERVICES = tuple(w for w in WORKLOADS if not w.calls_services)


def workload(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(name)


# -- settings -----------------------------------------------------------------------------------


def config_literals(w: Workload) -> dict[str, str]:
    """The ConfigMap: every non-secret setting, each under the service's own prefix."""
    p = w.env_prefix
    env = {
        f"{p}ENVIRONMENT": "production",
        f"{p}HTTP_HOST": "0.0.0.0",
        f"{p}HTTP_PORT": str(HTTP_PORT),
        f"{p}LOG_LEVEL": "INFO",
        f"{p}LOG_JSON": "true",
        f"{p}TRACE_EXPORTER": "otlp",
        f"{p}OTLP_ENDPOINT": OTLP_ENDPOINT,
    }
    if w.uses_kafka:
        env.update({
            f"{p}KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
            f"{p}CONSUMER_GROUP": w.name,
            # The authenticated listener: TLS (the cluster CA) and the service's own SCRAM user.
            f"{p}KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            f"{p}KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            f"{p}KAFKA_SASL_USERNAME": w.name,
            f"{p}KAFKA_SSL_CAFILE": f"{KAFKA_CA_DIR}/ca.crt",
            # The Topic Operator owns topics (KafkaTopic resources); the services' users may not create them.
            f"{p}KAFKA_CREATE_TOPICS": "false",
        })
    if w.uses_mongodb:
        env[f"{p}MONGO_DATABASE"] = w.name
    if w.verifies_tokens:
        env[f"{p}AUTH_AUDIENCE"] = "mimis"
    if w.calls_services:
        for other in SERVICES:
            env[f"{p}{other.name.upper()}_URL"] = f"http://{other.name}"
    env.update({f"{p}{name}": value for name, value in w.settings})
    return env


def _secret_env(name: str, secret: str, key: str) -> Resource:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _config_env(name: str, configmap: str, key: str) -> Resource:
    return {"name": name, "valueFrom": {"configMapKeyRef": {"name": configmap, "key": key}}}


def secret_env(w: Workload) -> list[Resource]:
    """Settings that come from Secrets (and the per-environment identity ConfigMap); nothing is committed.

    ``mimis-mongodb-<service>`` is written by the MongoDB operator, ``<service>`` by Strimzi's User
    Operator; ``<service>-app`` and ``mimis-identity`` are created by ops (deploy/RUNBOOK.md)."""
    p = w.env_prefix
    env = []
    if w.uses_mongodb:
        env.append(_secret_env(f"{p}MONGO_URL", f"{MONGODB}-{w.name}", "connectionString.standard"))
    if w.uses_kafka:
        env.append(_secret_env(f"{p}KAFKA_SASL_PASSWORD", w.name, "password"))
    if w.has_secret_key:
        env.append(_secret_env(f"{p}SECRET_KEY", f"{w.name}-app", "secret-key"))
    if w.verifies_tokens:
        env.append(_config_env(f"{p}AUTH_ISSUER", IDENTITY_CONFIGMAP, "issuer"))
        env.append(_config_env(f"{p}AUTH_JWKS", IDENTITY_CONFIGMAP, "jwks"))
    if w.calls_services:  # the key the gateway signs API-key callers' tokens with
        env.append(_secret_env(f"{p}TOKEN_SIGNING_KEY", f"{w.name}-app", "token-signing-key"))
    elif w.verifies_tokens:  # and the services trust that issuer: [{"issuer": ..., "jwks": ...}] (optional key)
        trusted = _config_env(f"{p}AUTH_TRUSTED_ISSUERS", IDENTITY_CONFIGMAP, "trusted-issuers")
        trusted["valueFrom"]["configMapKeyRef"]["optional"] = True
        env.append(trusted)
    env.extend(_secret_env(f"{p}{name}", f"{w.name}-app", key) for name, key in w.app_secrets)
    env.extend(_config_env(f"{p}{name}", configmap, key) for name, configmap, key in w.environment_settings)
    return env


# -- the workload's resources -------------------------------------------------------------------


def _meta(w: Workload, name: str | None = None) -> Resource:
    return {"name": name or w.name, "labels": dict(w.labels)}


def restricted_container_security() -> Resource:
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def deployment(w: Workload) -> Resource:
    def probe(path: str, period: int, timeout: int, failures: int) -> Resource:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": timeout,
                "failureThreshold": failures}

    mounts: list[Resource] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[Resource] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if w.uses_kafka:
        mounts.append({"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True})
        volumes.append({"name": "kafka-ca", "secret": {"secretName": KAFKA_CA_SECRET,
                                                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}})
    pod_labels = dict(w.labels)
    if w.uses_kafka:
        pod_labels[KAFKA_CLIENT] = "true"
    if w.uses_mongodb:
        pod_labels[MONGODB_CLIENT] = "true"
    container: Resource = {
        "name": w.name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", w.module],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": f"{w.name}-config"}}],
        "resources": {
            "requests": {"cpu": w.cpu_request, "memory": w.memory_request},
            "limits": {"cpu": w.cpu_limit, "memory": w.memory_limit},
        },
        # Start-up creates indexes and joins the consumer group before the port opens.
        "startupProbe": probe("/healthz", 5, 2, 24),
        # /healthz never touches a dependency: a broker outage must not restart every pod.
        "livenessProbe": probe("/healthz", 10, 2, 3),
        # /readyz asks MongoDB and Kafka (2 s each); an unready pod leaves the Service, keeps running.
        "readinessProbe": probe("/readyz", 5, 3, 2),
        # Let the endpoints controller and the ingress forget the pod before uvicorn stops accepting.
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "securityContext": restricted_container_security(),
        "volumeMounts": mounts,
    }
    env = secret_env(w)
    if env:
        container["env"] = env
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(w),
        "spec": {
            # No `replicas`: the HorizontalPodAutoscaler owns it, and an apply must not reset it.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": dict(w.selector)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": w.name,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    # uvicorn drains for up to 20 s; the consumer finishes the event in hand.
                    "terminationGracePeriodSeconds": 40,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                         "labelSelector": {"matchLabels": dict(w.selector)}}
                        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                    ],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service(w: Workload) -> Resource:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(w),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(w.selector),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def service_account(w: Workload) -> Resource:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(w), "automountServiceAccountToken": False}


def autoscaler(w: Workload) -> Resource:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(w),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
            "minReplicas": w.min_replicas,
            "maxReplicas": w.max_replicas,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            # Every scale step rebalances the consumer group; do not flap.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                       "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]}},
        },
    }


def disruption_budget(w: Workload) -> Resource:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(w),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(w.selector)},
                 "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }


def port(port: int, protocol: str = "TCP") -> Resource:
    return {"protocol": protocol, "port": port}


def pods(labels: dict[str, str]) -> Resource:
    return {"podSelector": {"matchLabels": labels}}


DNS_EGRESS: Resource = {
    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [port(53, "UDP"), port(53, "TCP")],
}


def network_policy(w: Workload) -> Resource:
    """Default deny for this pod, then only what the design needs."""
    if w.calls_services:
        ingress = [{"from": [{"namespaceSelector": {"matchLabels": {INGRESS_NAMESPACE_LABEL: "true"}}}],
                    "ports": [port(HTTP_PORT)]}]
    else:
        gateway = next(g for g in WORKLOADS if g.calls_services)
        callers = [gateway, *(c for c in WORKLOADS if w.name in c.calls)]
        ingress = [{"from": [pods(dict(c.selector)) for c in callers], "ports": [port(HTTP_PORT)]}]
        if w.public_paths:  # only the paths the Ingress routes here (see ingress.yaml)
            ingress.append({"from": [{"namespaceSelector": {"matchLabels": {INGRESS_NAMESPACE_LABEL: "true"}}}],
                            "ports": [port(HTTP_PORT)]})
    egress: list[Resource] = [
        DNS_EGRESS,
        {"to": [pods({NAME: "otel-collector", PART_OF: "mimis"})], "ports": [port(4318)]},
    ]
    if w.calls_services:
        egress.extend({"to": [pods(dict(s.selector))], "ports": [port(HTTP_PORT)]} for s in SERVICES)
    egress.extend({"to": [pods(dict(workload(name).selector))], "ports": [port(HTTP_PORT)]} for name in w.calls)
    if w.uses_kafka:
        egress.append({"to": [pods({"strimzi.io/cluster": CLUSTER, "strimzi.io/kind": "Kafka"})],
                       "ports": [port(9093)]})
    if w.uses_mongodb:
        egress.append({"to": [pods({NAME: "mongodb", PART_OF: "mimis"})], "ports": [port(27017)]})
    if w.outbound_internet:
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC_RANGES)}}],
                       "ports": [port(443)]})
        # The SMTP relay may be inside the organisation's network: any address, submission port only.
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [port(587)]})
    elif w.identity_egress:  # the identity provider's token endpoint: any address, HTTPS only
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [port(443)]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(w),
        "spec": {"podSelector": {"matchLabels": dict(w.selector)}, "policyTypes": ["Ingress", "Egress"],
                 "ingress": ingress, "egress": egress},
    }


def workload_resources(w: Workload) -> list[Resource]:
    return [service_account(w), deployment(w), service(w), autoscaler(w), disruption_budget(w), network_policy(w)]


# -- files --------------------------------------------------------------------------------------

HEADER = "# Generated by `python -m mimis_platform.contracts.k8s --write` from {source}; do not edit.\n"
SOURCE = "mimis_platform/contracts/k8s_workloads.py"


def documents(resources: list[Resource]) -> str:
    return "".join(
        "---\n" + yaml.safe_dump(r, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)
        for r in resources
    )


def render_workload(w: Workload) -> str:
    return HEADER.format(source=SOURCE) + documents(workload_resources(w))


def render_workload_kustomization(w: Workload) -> str:
    # A generated ConfigMap gets a content hash in its name, so a settings change rolls the pods.
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["resources.yaml"],
        "configMapGenerator": [
            {"name": f"{w.name}-config", "options": {"labels": dict(w.labels)},
             "literals": [f"{k}={v}" for k, v in config_literals(w).items()]}
        ],
    }
    return HEADER.format(source=SOURCE) + yaml.safe_dump(kustomization, sort_keys=False, width=120)


def generated_files() -> dict[Path, Callable[[], str]]:
    """Paths relative to ``deploy/k8s/base``."""
    files: dict[Path, Callable[[], str]] = {}
    for w in WORKLOADS:
        files[Path(f"services/{w.name}/resources.yaml")] = partial(render_workload, w)
        files[Path(f"services/{w.name}/kustomization.yaml")] = partial(render_workload_kustomization, w)
    return files
