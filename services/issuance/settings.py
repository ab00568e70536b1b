from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import ServiceSettings


class IssuanceSettings(ServiceSettings):
    """Environment variables prefixed ``ISSUANCE_``."""

    model_config = SettingsConfigDict(env_prefix="ISSUANCE_", extra="ignore", frozen=True)

    service_name: str = "issuance"
    mongo_database: str = "issuance"
    http_port: int = 8103
