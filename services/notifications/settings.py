from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import CallerSettings
from services.notifications.domain.retry import RetryPolicy

#: The recipient look-up's time limit (a learner's e-mail asks issuance first).
ISSUANCE_TIMEOUT_SECONDS = 10.0


class NotificationsSettings(CallerSettings):
    """Environment variables prefixed ``NOTIFICATIONS_`` (e.g. ``NOTIFICATIONS_SMTP_HOST``)."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)

    service_name: str = "notifications"
    mongo_database: str = "notifications"
    http_port: int = 8104

    # --- webhooks ---------------------------------------------------------------------------
    # Development only: let webhook URLs resolve to loopback, private or link-local addresses
    # (a partner's test receiver on this machine). Refused in production.
    allow_private_webhook_urls: bool = False
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    webhook_max_response_bytes: int = Field(64 * 1024, ge=1024)
    # Retries: exponential from ``retry_base_seconds`` (x2 each time, capped) with jitter.
    retry_base_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(24 * 3600.0, gt=0)
    retry_max_attempts: int = Field(10, ge=1, le=50)
    # An endpoint whose last N attempts (over all its deliveries) failed is disabled, and its
    # owner gets an e-mail.
    disable_after_failures: int = Field(20, ge=1)
    # After a rotation the previous secret still signs (a second signature) for this long.
    secret_rotation_overlap_seconds: float = Field(24 * 3600.0, ge=0)

    # Finished deliveries (and their attempt log) are kept this long; waiting ones are kept.
    log_retention_days: int = Field(30, ge=1, le=3650)

    # --- the delivery worker ----------------------------------------------------------------
    delivery_worker: bool = True  # tests drive the worker themselves, with their own clock
    delivery_batch_size: int = Field(100, ge=1, le=1000)
    delivery_concurrency: int = Field(32, ge=1, le=1000)
    # Rounds in flight at once: one claims and records while another sends, and a slow endpoint
    # holds up only its own round.
    delivery_loops: int = Field(2, ge=1, le=32)
    # Long enough for a whole round at its slowest (see ``_lease_covers_a_round``): a lease that
    # ran out mid-round would let another replica send the same deliveries again.
    delivery_lease_seconds: float = Field(300.0, gt=0)
    delivery_idle_seconds: float = Field(0.5, gt=0)

    # --- e-mail -----------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    mail_from: str = "MIMIS <no-reply@mikromeriter.skane.se>"
    # Development only: write each e-mail as an .eml file in this folder instead of sending it
    # (``make run`` sets it to .stack/mail). Refused in production.
    mail_drop_dir: str = ""

    # --- calls to issuance (the learner's contact details, asked at send time) ---------------
    issuance_url: str = "http://127.0.0.1:8103"
    # Service tokens for these calls: see CallerSettings (token_url, client_id, client_secret, ...).

    @model_validator(mode="after")
    def _production_rules(self) -> "NotificationsSettings":
        if self.environment == "production":
            if self.allow_private_webhook_urls:
                raise ValueError("allow_private_webhook_urls is for development only")
            if self.mail_drop_dir:
                raise ValueError("mail_drop_dir is for development only; production sends over SMTP")
        return self

    @model_validator(mode="after")
    def _lease_covers_a_round(self) -> "NotificationsSettings":
        waves = -(-self.delivery_batch_size // self.delivery_concurrency)
        slowest = max(self.webhook_timeout_seconds, self.smtp_timeout_seconds + ISSUANCE_TIMEOUT_SECONDS)
        if self.delivery_lease_seconds < waves * slowest:
            raise ValueError(f"delivery_lease_seconds ({self.delivery_lease_seconds:g}) is shorter than a round can "
                             f"take ({waves} waves of up to {slowest:g} s); raise it or the concurrency")
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(base_seconds=self.retry_base_seconds, max_seconds=self.retry_max_seconds,
                           max_attempts=self.retry_max_attempts)
