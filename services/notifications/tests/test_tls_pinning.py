"""The SSRF guard connects to the address it checked, yet TLS still verifies the partner's
certificate against the host name in the URL (the request keeps its Host header and TLS server
name). Served for real over HTTPS with a certificate made for the test."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

from services.notifications.domain.subscriptions import new_secret
from services.notifications.tests.servers import WebhookReceiver
from services.notifications.webhooks import WebhookSender


def certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def resolve_to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]  # the partner's host, served here (private addresses allowed for this test)


async def test_https_to_a_pinned_address_verifies_the_certificate_for_the_url_host(tmp_path: Path) -> None:
    secret = new_secret()
    for served_name, expect_ok in (("partner.example", True), ("impostor.example", False)):
        cert, key = certificate(tmp_path, served_name)
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(cert, key)
        client_tls = ssl.create_default_context(cafile=str(cert))
        with WebhookReceiver(tls=server_tls) as receiver:
            async with httpx.AsyncClient(verify=client_tls, trust_env=False) as http:
                sender = WebhookSender(http, resolver=resolve_to_loopback, allow_private=True, timeout_seconds=5)
                url = f"https://partner.example:{receiver.server.port}/hooks?x=1"
                result = await sender.send(url, "msg_tls", '{"a":1}', [secret])
            if expect_ok:
                assert result.status == 200, result.error
                [request] = receiver.requests
                assert request.headers["host"] == f"partner.example:{receiver.server.port}"
                assert request.path == "/hooks?x=1"
                Webhook(secret).verify(request.body, request.headers)
            else:  # a certificate for another name is refused even though the address is the same
                assert result.status is None and result.error and "connection error" in result.error
                assert receiver.requests == []
