"""Free-text search terms and Swedish sort keys, computed in the application.

The local MongoDB server refuses text indexes, and a collation "sv" there sorts Å/Ä/Ö as A/O,
so the catalogue keeps its own normalised token array (under a multikey index, which works the
same on MongoDB) and its own sort key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MIN_PREFIX = 3
_WORD = re.compile(r"[0-9a-zåäöæøü]+")
# Words so common they find everything; searching for them alone still works (see terms_of_query).
_STOP = frozenset(
    [
        "och",
        "i",
        "att",
        "en",
        "ett",
        "som",
        "på",
        "för",
        "med",
        "av",
        "till",
        "den",
        "det",
        "är",
        "om",
        "de",
        "the",
        "and",
        "of",
        "to",
        "in",
        "for",
        "a",
        "an",
        "on",
        "with",
    ]
)


def fold(text: str) -> str:
    """Lower case without accents, but Å/Ä/Ö kept as letters of their own (they are, in Swedish)."""
    text = unicodedata.normalize("NFC", text.casefold())
    kept = {"å", "ä", "ö"}
    out = []
    for ch in text:
        if ch in kept:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base)
    return "".join(out)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _loose(word: str) -> str:
    # People type "vard" for "vård" on a foreign keyboard; index both spellings.
    return word.replace("å", "a").replace("ä", "a").replace("ö", "o")


def index_terms(texts: Iterable[str]) -> list[str]:
    """Every word and every prefix of 3+ letters, in both the Swedish and the loose spelling."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            if word in _STOP:
                continue
            for variant in {word, _loose(word)}:
                terms.update(variant[:n] for n in range(MIN_PREFIX, len(variant) + 1))
                if len(variant) < MIN_PREFIX:
                    terms.add(variant)
    return sorted(terms)


def terms_of_query(query: str) -> list[str]:
    """The terms a query must all match (each as a word or as the start of one). Stop words are
    not indexed, so they are not asked for either: a query of stop words alone filters nothing."""
    return list(dict.fromkeys(w for w in words(query) if w not in _STOP))


_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}", "ü": "y"})


def swedish_sort_key(text: str) -> str:
    """A key whose plain binary order is Swedish alphabetical order (… x y z å ä ö)."""
    folded = unicodedata.normalize("NFC", text.casefold()).translate(_SWEDISH_ORDER)
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in folded).strip()
