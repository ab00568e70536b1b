"""Signing secrets at rest: HMAC needs the secret itself, so it is stored encrypted (Fernet,
key derived from the service's ``SECRET_KEY``), never hashed, and shown to the partner once."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(b"mimis-notifications-webhook-secrets|" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()
