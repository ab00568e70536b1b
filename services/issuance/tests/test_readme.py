"""The README's signing example, run as written: it reproduces the Standard Webhooks test vector
and what it signs passes the service's own check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.issuance.domain.assessment import new_provider_secret, signature_problem

README = Path(__file__).resolve().parents[1] / "README.md"


def signing_example() -> Any:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    namespace: dict[str, Any] = {}
    exec(blocks[0], namespace)  # the README's own example, nothing from outside
    return namespace["standard_webhooks_headers"]


def test_the_readme_signing_example_matches_the_standard_webhooks_vector() -> None:
    sign = signing_example()
    headers = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                   b'{"test": 2432232314}')
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_what_the_readme_example_signs_the_service_accepts() -> None:
    secret = new_provider_secret()
    body = '{"provider_event_id": "ladok-1", "learner": {"name": "Åsa Öberg"}}'.encode()
    headers = signing_example()(secret, "event-1", 1_800_000_000, body)
    assert signature_problem(body, headers, "event-1", [secret]) is None
    assert signature_problem(body + b" ", headers, "event-1", [secret]) is not None
