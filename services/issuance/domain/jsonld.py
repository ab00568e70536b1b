"""JSON-LD processing with the contexts shipped in ``services/issuance/contexts`` only.

RDF Dataset Canonicalization (what eddsa-rdfc-2022 signs) resolves every ``@context`` a document
names. Fetching them at run time would make a signature depend on what a remote host serves that
day (and the machines have no internet anyway), so the loader serves exact local copies and
refuses every other URL: a credential naming an unknown context fails loudly instead of being
canonicalised against a guess.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import FrozenDocumentLoader, jsonld
from pyld.context_resolver import ContextResolver

JsonObject = dict[str, Any]

CONTEXTS_DIR = Path(__file__).resolve().parents[1] / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
MIMIS_V1 = "https://mimis.skane.se/contexts/mimis-v1.jsonld"
DID_V1 = "https://www.w3.org/ns/did/v1"

# URL -> file in CONTEXTS_DIR. contexts/README.md says where each file comes from.
CONTEXT_FILES: Mapping[str, str] = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    STATUS_LIST_V1: "bitstring-status-list-v1.jsonld",
    EXAMPLES_V2: "credentials-examples-v2.json",
    MIMIS_V1: "mimis-v1.jsonld",
}

# The context whose @vocab turns every term no other context defines into an IRI under this
# prefix (the VC 2.0 "undefined terms" context); used only to find such terms, never to sign.
UNDEFINED_TERM_PREFIX = "https://www.w3.org/ns/credentials/undefined-term#"
_UNDEFINED_TERMS_CONTEXT: JsonObject = {"@vocab": UNDEFINED_TERM_PREFIX}


class ContextNotAllowed(ValueError):
    """A document names a JSON-LD context this service does not hold a local copy of."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"JSON-LD context {url!r} is not one of the contexts held locally "
            f"({', '.join(sorted(CONTEXT_FILES))}); remote contexts are never fetched"
        )


class CanonicalizationError(ValueError):
    """The document is not JSON-LD that can be canonicalised (the message says why)."""


def context_document(url: str) -> JsonObject:
    """A copy of the local context document for ``url`` (e.g. to serve MIMIS's own context)."""
    return copy.deepcopy(_parsed(url))


@cache
def _parsed(url: str) -> JsonObject:
    if url not in CONTEXT_FILES:
        raise ContextNotAllowed(url)
    loaded: JsonObject = json.loads((CONTEXTS_DIR / CONTEXT_FILES[url]).read_text(encoding="utf-8"))
    return loaded


# Limits for documents from outside (a verifier's input). JSON-LD processing recurses per level
# and RDF canonicalization can be made expensive by many blank nodes, so a presented credential
# far larger or deeper than any real one is refused before either runs.
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_OBJECTS = 1_000


def screen(document: Any) -> str | None:
    """Why ``document`` is too big or too deep to process, or None."""
    objects = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(node, dict):
            objects += 1
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        if objects > MAX_OBJECTS:
            return f"more than {MAX_OBJECTS} JSON objects"
    try:
        size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError) as exc:
        return f"not JSON: {exc}"
    if size > MAX_DOCUMENT_BYTES:
        return f"larger than {MAX_DOCUMENT_BYTES} bytes"
    return None


class LocalContextLoader(FrozenDocumentLoader):
    """pyld's allow-list loader over the local copies, raising :class:`ContextNotAllowed`
    (with the URL) for anything else instead of pyld's generic refusal."""

    def __init__(self) -> None:
        super().__init__({url: CONTEXTS_DIR / name for url, name in CONTEXT_FILES.items()})

    def __call__(self, url: str, options: dict[str, Any]) -> Any:
        if url not in self.documents:
            raise ContextNotAllowed(url)
        remote = super().__call__(url, options)
        # pyld may keep references into the document; a copy keeps the cached one pristine.
        # "static" lets pyld keep the resolved context (in our own cache, below) across calls.
        return {**remote, "document": copy.deepcopy(remote["document"]), "tag": "static"}


_LOADER = LocalContextLoader()
# pyld's default resolved-context cache is process-wide and keyed by URL alone: another library
# in the process that loads a *different* document for the same URL (tagged static) would be
# served to us. A private cache keeps what we canonicalise against exactly our local copies.
_RESOLVED_CONTEXTS: LRUCache[Any, Any] = LRUCache(maxsize=64)


def document_loader() -> LocalContextLoader:
    return _LOADER


def _options(**extra: Any) -> JsonObject:
    return {"documentLoader": _LOADER, "contextResolver": ContextResolver(_RESOLVED_CONTEXTS, _LOADER), **extra}


def _refused_url(exc: BaseException) -> str | None:
    """pyld wraps loader errors several levels deep; find ours."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ContextNotAllowed):
            return seen.url
        details = getattr(seen, "details", None)
        if isinstance(details, dict) and isinstance(details.get("cause"), BaseException):
            inner = _refused_url(details["cause"])
            if inner:
                return inner
        seen = seen.__cause__ or seen.__context__
    return None


def _run(operation: str, func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except ContextNotAllowed:
        raise
    except jsonld.JsonLdError as exc:
        url = _refused_url(exc)
        if url is not None:
            raise ContextNotAllowed(url) from exc
        raise CanonicalizationError(f"{operation} failed: {_describe(exc)}") from exc
    except (RecursionError, TypeError, ValueError, KeyError, AttributeError) as exc:
        # pyld assumes well-formed input in places; hostile input must fail, not crash the caller.
        raise CanonicalizationError(f"{operation} failed: {type(exc).__name__}: {exc}") from exc


def _describe(exc: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 5:
        message = seen.args[0] if isinstance(seen, jsonld.JsonLdError) and seen.args else str(seen)
        parts.append(str(message).splitlines()[0])
        seen = seen.__cause__
    return "; ".join(parts)


def canonicalize(document: JsonObject) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document."""
    result: str = _run(
        "RDF canonicalization",
        jsonld.normalize,
        document,
        _options(algorithm="URDNA2015", format="application/n-quads"),
    )
    return result


def expand(document: JsonObject) -> list[JsonObject]:
    result: list[JsonObject] = _run("JSON-LD expansion", jsonld.expand, document, _options())
    return result


def undefined_terms(document: JsonObject) -> list[str]:
    """Terms and types in ``document`` that no context in its ``@context`` defines.

    Canonicalisation silently drops them, so a signature would not cover them; verifiers in
    "safe mode" refuse such documents. Found by expanding the document once more with a
    leading ``@vocab`` context: whatever ends up under the undefined-term prefix, or as a
    relative IRI, was undefined. The probe's ``@vocab`` goes *first*: @vocab is no term, so
    it redefines nothing protected, and a later context's own @vocab (which does define every
    term, like the W3C examples context) still wins over it.
    """
    contexts = document.get("@context")
    if contexts is None:
        return ["@context (missing)"]
    stacked = [_UNDEFINED_TERMS_CONTEXT, *(contexts if isinstance(contexts, list) else [contexts])]
    probe = {**document, "@context": stacked}
    expanded = _run("JSON-LD expansion", jsonld.expand, probe, _options())
    found: dict[str, None] = {}
    for iri in _iris(expanded):
        if iri.startswith(UNDEFINED_TERM_PREFIX):
            found.setdefault(iri.removeprefix(UNDEFINED_TERM_PREFIX))
        elif ":" not in iri:
            found.setdefault(iri)
    return list(found)


def _iris(node: Any) -> Iterator[str]:
    """Property IRIs and type IRIs of an expanded document (not @id values: a relative
    ``@id`` is a data problem, not a dropped term)."""
    if isinstance(node, list):
        for item in node:
            yield from _iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type" and "@value" not in node:
                yield from (value if isinstance(value, list) else [value])
            elif not key.startswith("@"):
                yield key
            if key not in ("@value", "@id"):
                yield from _iris(value)
