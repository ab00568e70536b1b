from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """Environment variables prefixed ``NOTIFICATIONS_``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)

    service_name: str = "notifications"
    mongo_database: str = "notifications"
    http_port: int = 8104
