"""The MIMIS GraphQL schema: one graph of the region's micro-credentials for web and partner clients.

It reads like the domain (micro-credentials, providers, pathways, reviews), not like the services
behind it; each part lives in its own module.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.schema.access import AccessMutation, AccessQuery
from gateway.schema.catalogue import CatalogueQuery
from gateway.schema.credentials import CredentialMutation, CredentialQuery
from gateway.schema.drafts import DraftMutation, DraftQuery
from gateway.schema.live import Subscription
from gateway.schema.privacy import PrivacyMutation, PrivacyQuery
from gateway.schema.reviews import ReviewMutation, ReviewQuery
from gateway.schema.statistics import StatisticsQuery
from gateway.schema.system import SystemQuery
from gateway.schema.webhooks import WebhookMutation, WebhookQuery

Query = merge_types("Query", (CatalogueQuery, DraftQuery, ReviewQuery, CredentialQuery, PrivacyQuery,
                              WebhookQuery, StatisticsQuery, AccessQuery, SystemQuery))
Mutation = merge_types("Mutation", (DraftMutation, ReviewMutation, CredentialMutation, PrivacyMutation,
                                    WebhookMutation, AccessMutation))


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Client errors are the client's business, not the log's: a refused document or a FORBIDDEN is an
        answer. Faults are logged where they are masked (gateway.limits), unreachable services in
        gateway.services."""


def build_schema(extensions: list[Any] | None = None) -> strawberry.Schema:
    return GatewaySchema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions or [])
