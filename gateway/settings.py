"""The gateway's settings (environment variables prefixed ``GATEWAY_``).

It shares :class:`ServiceSettings` with the services: its own MongoDB database (API keys only),
the broker (live events for subscriptions), telemetry, and the identity provider it trusts.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import DEVELOPMENT_SECRET, ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    http_port: int = Field(8100, ge=0, le=65535)
    mongo_database: str = "gateway"

    catalog_url: str = "http://127.0.0.1:8101"
    quality_url: str = "http://127.0.0.1:8102"
    issuance_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"
    #: One call to a service may take this long before its fields answer SERVICE_UNAVAILABLE.
    service_timeout_seconds: float = Field(3.0, gt=0, le=60)

    # Limits on what one GraphQL document may ask (see gateway/limits.py).
    max_query_depth: int = Field(15, ge=2, le=50)
    max_query_tokens: int = Field(2000, ge=50)
    max_query_aliases: int = Field(30, ge=1)
    max_query_cost: int = Field(25_000, ge=10)
    max_page_size: int = Field(50, ge=1, le=50)  # the catalogue search itself answers at most 50 per page

    #: Subscriptions read the live topics from Kafka (gateway.live); off: subscriptions answer SERVICE_UNAVAILABLE.
    live_events: bool = True

    #: Web origins whose browser pages may call the API (CORS), e.g. ["https://mikromeriter.skane.se"].
    cors_origins: list[str] = Field(default_factory=list)

    #: GraphiQL at /graphql; None means: everywhere except production.
    graphiql: bool | None = None

    # The gateway's own token issuer. A partner system that calls with an API key gets a token
    # signed with this key (an Ed25519 private JWK, JSON) for its calls to the services, which
    # trust this issuer through their AUTH_TRUSTED_ISSUERS setting (the public key is served at
    # /.well-known/jwks.json). The development default makes a fresh key per process.
    token_issuer: str = "https://gateway.mimis.localhost"
    token_signing_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    token_lifetime_seconds: int = Field(300, ge=30, le=3600)

    def service_urls(self) -> dict[str, str]:
        return {"catalog": self.catalog_url, "quality": self.quality_url,
                "issuance": self.issuance_url, "notifications": self.notifications_url}

    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment != "production"
