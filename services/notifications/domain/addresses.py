"""Which network addresses a webhook may reach (the SSRF guard's rule, without I/O)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """The URL may not be used for webhooks; the message says why (for the partner)."""


def check_url_shape(url: str, allow_private: bool) -> tuple[str, str, int]:
    """Scheme, host and port of a webhook URL; refuse what is never acceptable."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must be https (http only in development)")
    if parts.scheme == "http" and not allow_private:
        raise UnsafeUrl("the URL must be https")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL may not carry a user name or password; authenticate with the signature")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrl("the URL's port is not valid") from exc
    return parts.scheme, host, port


def forbidden_reason(address: str) -> str | None:
    """Why a webhook may not go to this IP address, or None if it is a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public address"
    return None


def check_addresses(host: str, addresses: Iterable[str], allow_private: bool) -> list[str]:
    """The addresses to connect to; every one must be public unless private ones are allowed
    (one private answer among public ones is refused: an attacker controls which one is used)."""
    found = list(dict.fromkeys(addresses))
    if not found:
        raise UnsafeUrl(f"{host} does not resolve")
    if not allow_private:
        for address in found:
            reason = forbidden_reason(address)
            if reason is not None:
                raise UnsafeUrl(f"{host} resolves to {address}, a {reason} address; webhooks go to public "
                                "addresses only")
    return found
