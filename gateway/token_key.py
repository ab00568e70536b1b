"""Makes the gateway's token-signing key (an Ed25519 private JWK, written to a file for the
``gateway-app`` Secret) and prints what the services need to trust it, for ``AUTH_TRUSTED_ISSUERS``:

    .venv/bin/python -m gateway.token_key https://gateway.example.se gateway-token-key.json > trusted-issuers.json

Rotation: make a new key, add its public half to ``trusted-issuers`` beside the old one (same issuer
twice is not allowed: one JWKS with both keys), roll the services, then switch the gateway's Secret.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from joserfc.jwk import OKPKey


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    issuer, path = argv[0], Path(argv[1])
    key = OKPKey.generate_key("Ed25519", parameters={"kid": f"gateway-{uuid.uuid4().hex[:8]}"})
    path.write_text(json.dumps(key.as_dict(private=True)))
    os.chmod(path, 0o600)
    print(json.dumps([{"issuer": issuer, "jwks": {"keys": [key.as_dict(private=False)]}}]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
