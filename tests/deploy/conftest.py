"""Rendered overlays for the deployment tests: `kubectl kustomize` once per overlay and session.

kubectl (v1.32, with kustomize v5.5) is preinstalled on the project's machines (shared/DESIGN.md);
Debian's own kubernetes-client (1.20) is too old. A machine without it fails these tests, loudly:
a deployment nobody rendered is not a deployment that was tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
OVERLAYS = ("dev", "prod")

Resource = dict[str, Any]


def kubectl() -> str:
    found = shutil.which(os.environ.get("KUBECTL") or "kubectl")
    if not found:
        pytest.fail(
            "kubectl is not installed, so the Kubernetes overlays cannot be rendered. These machines come with "
            "kubectl v1.32 (kustomize v5.5) preinstalled; install a kubectl >= 1.27 on PATH or point KUBECTL at "
            "one (Debian's kubernetes-client 1.20 is too old for kustomize v5 features). Looked for: "
            f"{os.environ.get('KUBECTL') or 'kubectl'} on PATH={os.environ.get('PATH', '')}",
            pytrace=False,
        )
    return found


def render(path: Path) -> list[Resource]:
    done = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"kubectl kustomize {path.relative_to(ROOT)} failed:\n{done.stderr}", pytrace=False)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


class Rendered:
    """One overlay's resources, with lookups by kind and name."""

    def __init__(self, overlay: str, resources: list[Resource]) -> None:
        self.overlay = overlay
        self.resources = resources

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r["kind"] == kind]

    def get(self, kind: str, name: str) -> Resource:
        found = [r for r in self.of_kind(kind) if r["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} named {name}, found {len(found)}"
        return found[0]

    def configmap(self, prefix: str) -> Resource:
        """A generated ConfigMap (its name carries a content hash)."""
        found = [r for r in self.of_kind("ConfigMap") if r["metadata"]["name"].rsplit("-", 1)[0] == prefix]
        assert len(found) == 1, f"{self.overlay}: expected one ConfigMap generated as {prefix}, found {len(found)}"
        return found[0]


@pytest.fixture(scope="session")
def overlays() -> dict[str, Rendered]:
    return {name: Rendered(name, render(K8S / "overlays" / name)) for name in OVERLAYS}


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, overlays: dict[str, Rendered]) -> Rendered:
    return overlays[request.param]
