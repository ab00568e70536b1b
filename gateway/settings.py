from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Environment variables prefixed ``GATEWAY_``."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    environment: str = "development"
    http_host: str = "127.0.0.1"
    http_port: int = 8100
    catalog_url: str = "http://127.0.0.1:8101"
    quality_url: str = "http://127.0.0.1:8102"
    issuance_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"
    service_timeout_seconds: float = 3.0
    log_level: str = "INFO"
    log_json: bool = True
    trace_exporter: str = "none"
    otlp_endpoint: str = "http://127.0.0.1:4318"

    def service_urls(self) -> dict[str, str]:
        return {"catalog": self.catalog_url, "quality": self.quality_url,
                "issuance": self.issuance_url, "notifications": self.notifications_url}
