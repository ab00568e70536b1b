from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    """Environment variables prefixed ``CATALOG_`` (e.g. ``CATALOG_MONGO_URL``)."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", frozen=True)

    service_name: str = "catalog"
    mongo_database: str = "catalog"
    http_port: int = 8101
