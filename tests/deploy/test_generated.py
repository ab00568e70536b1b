"""Every generated deployment file is what its generator writes today (regenerate with
`make k8s-generate`), and the generator's table agrees with the processes `make run` starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimis_platform.contracts.k8s import generated_files
from mimis_platform.contracts.k8s_workloads import WORKLOADS
from mimis_platform.devstack import PROCESSES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(generated_files()), ids=str)
def test_the_committed_file_is_generated(path: Path) -> None:
    committed = ROOT / path
    assert committed.exists(), f"{path} is missing; run: make k8s-generate"
    assert committed.read_text() == generated_files()[path](), f"{path} is stale; run: make k8s-generate"


def test_every_generated_directory_is_in_the_base() -> None:
    base = (ROOT / "deploy/k8s/base/kustomization.yaml").read_text()
    for w in WORKLOADS:
        assert f"services/{w.name}\n" in base, f"deploy/k8s/base/kustomization.yaml lists services/{w.name}"


def test_the_workloads_are_the_processes_make_run_starts() -> None:
    assert {(w.name, w.module, w.env_prefix) for w in WORKLOADS} == {
        (name, module, prefix) for name, module, prefix, _ in PROCESSES
    }
