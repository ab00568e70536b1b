"""`make run`'s driver brings up broker, database, every service and the gateway as separate
processes; each answers /readyz; Ctrl-C (SIGINT) stops everything and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from mimis_platform.auth import DevelopmentIssuer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    env = {**os.environ, "MIMIS_STACK_DIR": str(tmp_path / "stack"), "MIMIS_BASE_PORT": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "mimis_platform.devstack", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        urls: dict[str, str] = {}
        deadline = time.monotonic() + 180
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("MIMIS READY "):
                urls = dict(part.split("=", 1) for part in line.split()[2:])
                break
        assert set(urls) == {"gateway", "catalog", "quality", "issuance", "notifications"}, "".join(output)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 7  # broker, database, four services, gateway
        for name, url in urls.items():
            answer = httpx.get(f"{url}/readyz", timeout=10)
            assert answer.status_code == 200, (name, answer.text)
        # The operators' CLI reads what make run wrote and finds every part ready.
        status = subprocess.run([sys.executable, "-m", "mimis_cli", "status", "--stack-dir", str(tmp_path / "stack")],
                                cwd=ROOT, capture_output=True, text=True, timeout=60, env={**env, "COLUMNS": "200"})
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("not ready") == 0 and status.stdout.count("ready") >= 5, status.stdout
        # `mimis verify` on the demo learners' credentials, as files: valid ones pass, the revoked one fails.
        issuer = DevelopmentIssuer.load_or_create(tmp_path / "stack" / "dev-issuer-key.json")
        outcomes: list[int] = []
        for learner in ("demo.maja@example.se", "demo.yusuf@example.se", "demo.elin@example.se"):
            auth = {"authorization": f"Bearer {issuer.token(learner, ['learner'])}"}
            for item in httpx.get(f"{urls['issuance']}/v1/me/credentials", headers=auth, timeout=20).json()["items"]:
                jws = httpx.get(f"{urls['issuance']}/v1/me/credentials/{item['credential_id']}/download",
                                params={"format": "jws"}, headers=auth, timeout=20).text
                path = tmp_path / f"{item['credential_id'].rsplit(':', 1)[-1]}.jwt"
                path.write_text(jws)
                checked = subprocess.run([sys.executable, "-m", "mimis_cli", "verify", str(path), "--stack-dir",
                                          str(tmp_path / "stack")], cwd=ROOT, capture_output=True, text=True,
                                         timeout=60, env={**env, "COLUMNS": "200"})
                expected = 0 if item["status"] == "active" else 2
                assert checked.returncode == expected, (item, checked.stdout, checked.stderr)
                outcomes.append(checked.returncode)
        assert sorted(set(outcomes)) == [0, 2], outcomes  # the demo has valid and revoked credentials
        graphql = httpx.post(f"{urls['gateway']}/graphql", json={"query": "{ services { name ready } }"}, timeout=20)
        assert graphql.status_code == 200
        assert all(s["ready"] for s in graphql.json()["data"]["services"]), graphql.text

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
        output.append(rest)
        assert proc.returncode == 0, "".join(output)
        assert "MIMIS stopped." in rest
        assert not (tmp_path / "stack" / "running.json").exists()
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"left running: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
