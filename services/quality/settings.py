from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import ServiceSettings


class QualitySettings(ServiceSettings):
    """Environment variables prefixed ``QUALITY_``."""

    model_config = SettingsConfigDict(env_prefix="QUALITY_", extra="ignore", frozen=True)

    service_name: str = "quality"
    mongo_database: str = "quality"
    http_port: int = 8102
