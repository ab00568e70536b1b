from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import DEVELOPMENT_SECRET, CallerSettings


class IssuanceSettings(CallerSettings):
    """Environment variables prefixed ``ISSUANCE_`` (e.g. ``ISSUANCE_KEY_ENCRYPTION_KEY``).

    The two secrets below keep their development default only in development and test; the
    shared settings refuse them in production.
    """

    model_config = SettingsConfigDict(env_prefix="ISSUANCE_", extra="ignore", frozen=True)

    service_name: str = "issuance"
    mongo_database: str = "issuance"
    http_port: int = 8103

    # Key-encryption key: signing keys and providers' event-signing secrets are stored sealed
    # with AES-256-GCM under a key derived from this; the database alone reveals neither.
    key_encryption_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # HMAC key of the personal identity number look-up value (kept outside the database, so a
    # stolen database cannot be brute-forced over the ~2^33 possible numbers).
    learner_lookup_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    # Who signs: did:web:<issuer_domain>, its DID document served at /.well-known/did.json there.
    issuer_domain: str = Field("issuance.mimis.skane.se", min_length=1)
    issuer_name: str = Field("MIMIS – mikromeriter i Skåne", min_length=1)
    # Where this service is reached from outside (status lists, share links).
    public_base_url: str = Field("https://issuance.mimis.skane.se", pattern=r"^https?://\S+$")
    # What a share link opens: the verification page for people (served by the gateway), with
    # ``{token}`` in it. Empty: ``<PUBLIC_BASE_URL>/verify?share={token}`` (the public host sends
    # /verify to the gateway). The JSON stays at ``/v1/shared/{token}``.
    share_page_url: str = Field("", pattern=r"^(https?://\S*\{token\}\S*)?$")
    # Base of the catalogue's public URLs named on credentials (achievement ids).
    catalogue_base_url: str = Field("https://mimis.skane.se", pattern=r"^https?://\S+$")

    # Status entries of new credentials. True: two, revocation and suspension (a VC 2.0
    # ``credentialStatus`` array, which the verifiers MIMIS is tested with read; suspension is
    # possible). False: one revocation entry as a single object, the shape Open Badges 3.0's JSON
    # Schema requires (``credentialStatus`` 0..1; 1EdTech's conformance check), without suspension.
    suspension_entry: bool = True

    share_link_days: int = Field(90, ge=1, le=3650)
    # Providers must sign their assessment events (Standard Webhooks); after a rotation the
    # previous secret still verifies for this long, so a provider can switch without losses.
    provider_secret_overlap_hours: int = Field(72, ge=0, le=24 * 30)
    assessment_consumer_group: str | None = None
    # Members of the assessment consumer group in this process: each handles its partitions'
    # events one at a time, so several overlap their database round trips (at most one per
    # partition of provider.assessments is useful).
    assessment_consumers: int = Field(3, ge=1, le=12)
    # Events a consumer reads and issues in one transaction (1: one at a time, no batch path).
    assessment_batch_size: int = Field(200, ge=1, le=1000)
    bulk_max_rows: int = Field(1000, ge=1, le=10_000)

    # A learner's export asks notifications for its part (with a service token, see CallerSettings).
    notifications_url: str = Field("http://127.0.0.1:8104", pattern=r"^https?://\S+$")
