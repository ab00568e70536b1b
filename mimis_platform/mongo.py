"""MongoDB connections: PyMongo's async API (``AsyncMongoClient``), the successor of Motor."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def new_client(url: str, **options: Any) -> AsyncMongoClient[Document]:
    options.setdefault("serverSelectionTimeoutMS", 5000)
    options.setdefault("tz_aware", True)
    options.setdefault("uuidRepresentation", "standard")
    return AsyncMongoClient(url, **options)


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client[name]
