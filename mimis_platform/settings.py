"""Settings from the environment, one prefix per service (``CATALOG_``, ``QUALITY_``, ...).

Every service subclasses :class:`ServiceSettings` and sets its own ``env_prefix``; nothing in
MIMIS reads ``os.environ`` ad hoc.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mimis_platform.kafka import KafkaConnection

Environment = Literal["development", "test", "production"]
TraceExporter = Literal["none", "console", "otlp"]

#: Secrets that ship in the code for local development; refused outside development and test.
DEVELOPMENT_SECRET = "development-only-not-a-secret"


class ServiceSettings(BaseSettings):
    """What every service needs to reach its broker, its database and its telemetry."""

    model_config = SettingsConfigDict(env_prefix="MIMIS_", extra="ignore", frozen=True)

    service_name: str = "mimis"
    environment: Environment = "development"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # TLS and SASL (production: SASL_SSL with SCRAM-SHA-512, the user Strimzi's User Operator
    # made for this service, and the cluster CA). See mimis_platform.kafka.KafkaConnection.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    # Create the registry's topics at start-up (local stack). Off where KafkaTopic resources own them.
    kafka_create_topics: bool = True
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_database: str = "mimis"

    trace_exporter: TraceExporter = "none"
    otlp_endpoint: str = "http://127.0.0.1:4318"
    log_level: str = "INFO"
    log_json: bool = True

    # Outbox relay and consumer tuning. The consumer group defaults to the service name.
    consumer_group: str | None = None
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_idle_seconds: float = Field(0.2, gt=0)
    consumer_max_attempts: int = Field(5, ge=1)
    consumer_backoff_seconds: float = Field(0.2, gt=0)
    consumer_backoff_max_seconds: float = Field(30.0, gt=0)

    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    # Identity: bearer JWTs from this issuer, for this audience, signed by a key in this JWKS
    # (JSON text or a file path). Empty in development means: no authenticated calls.
    auth_issuer: str = "https://login.mimis.localhost"
    auth_audience: str = "mimis"
    auth_jwks: str = ""
    # Further issuers trusted besides auth_issuer, as JSON: [{"issuer": ..., "jwks": ...}]; e.g. the
    # gateway, which exchanges a partner system's API key for a short-lived token it signs itself.
    auth_trusted_issuers: str = ""

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production" and not self.auth_jwks:
            raise ValueError("auth_jwks is empty; production needs the identity provider's JWKS")
        if self.environment == "production" and self.kafka_security_protocol != "SASL_SSL":
            raise ValueError(
                f"kafka_security_protocol is {self.kafka_security_protocol}; production connects to Kafka with "
                "SASL_SSL (TLS and the service's own user)"
            )
        self.kafka_connection()  # contradictory Kafka settings fail at start-up, with the reason
        if self.environment == "production":
            for name, value in self.model_dump().items():
                if isinstance(value, SecretStr) and value.get_secret_value() == DEVELOPMENT_SECRET:
                    raise ValueError(
                        f"{name} still holds the development default; set "
                        f"{(self.model_config.get('env_prefix') or '')}{name.upper()} in production"
                    )
        return self

    def kafka_connection(self) -> KafkaConnection:
        return KafkaConnection.from_settings(self)


class CallerSettings(ServiceSettings):
    """A service that calls other MIMIS services over HTTP with a service token (role ``service``).

    In production the token comes from the identity provider's OAuth2 client-credentials grant at
    ``token_url``; in development and tests it is signed locally with the development issuer's
    key in ``dev_issuer_key_path`` (``make run`` writes it)."""

    token_url: str = ""
    client_id: str = ""  # empty: ``mimis-<service_name>``
    client_secret: SecretStr = SecretStr("")
    token_scope: str = ""
    dev_issuer_key_path: str = ".stack/dev-issuer-key.json"

    @model_validator(mode="after")
    def _production_needs_a_token_endpoint(self) -> CallerSettings:
        if self.environment == "production" and not self.token_url:
            raise ValueError("token_url is empty; production needs the identity provider's token endpoint")
        return self

    @property
    def token_client_id(self) -> str:
        return self.client_id or f"mimis-{self.service_name}"
