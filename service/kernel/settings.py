"""Settings read from the environment, once, with clear errors for bad values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Literal

from service.kernel.addresses import IPNetwork, parse_networks

Mode = Literal["production", "demo", "test"]

# Demo and test instances sign tokens with this; production refuses it.
INSECURE_SECRET = "insecure-demo-secret-do-not-use-in-production"


# ProConnect's production issuer (integration: https://fca.integ01.dev-agentconnect.fr/api/v2).
PROCONNECT_ISSUER = "https://auth.proconnect.gouv.fr/api/v2"
OIDC_FIELDS = ("given_name", "family_name", "email", "email_verified", "uid", "siret")
DEFAULT_OIDC_CLAIMS: tuple[tuple[str, str], ...] = (
    ("given_name", "given_name"),
    ("family_name", "usual_name"),
    ("email", "email"),
    ("email_verified", "email_verified"),
    ("uid", "uid"),
    ("siret", "siret"),
)


class SettingsError(ValueError):
    """The environment holds a setting the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    mode: Mode = "production"
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = INSECURE_SECRET
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = field(default_factory=lambda: Path("var"))
    database_pool_size: int = 20
    # A streaming replica for the reporting reads (service.kernel.replica); None: the primary.
    read_replica_url: str | None = None
    # Bounds on every wait for PostgreSQL and Redis, so a frozen server costs a request a few
    # seconds and a 503, never a hang (docs/reliability.md).
    database_connect_timeout_ms: int = 1000
    database_acquire_timeout_ms: int = 1000
    database_statement_timeout_ms: int = 2000
    # The worker's jobs (monthly close, document rendering) run long statements on purpose.
    worker_statement_timeout_ms: int = 10 * 60 * 1000
    redis_timeout_ms: int = 500
    access_token_minutes: int = 12 * 60
    # How long an API process may remember who a token names (service.kernel.principal_cache):
    # a revocation empties it on every process as soon as PostgreSQL notifies. Settings built
    # in code (the in-process tests) leave it off; the environment's default is 30 s.
    auth_cache_ms: int = 0
    # Failed sign-ins for one account from one client address before growing delays; a client
    # address gets ten times as many across all accounts (see service.kernel.throttle).
    login_free_attempts: int = 10
    # Reverse proxies whose X-Forwarded-For is believed (see service.kernel.addresses).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Production: "<key id>:<base64url seed>,…" (see docs/key-rotation.md); demo/test: DATA_DIR.
    pass_signing_keys: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    # The régie as it appears on invoices (seller) and statements (buyer).
    network_name: str = "Réseau des tiers-lieux (démo)"
    network_legal_form: str = "Association loi 1901"
    network_siret: str = "73282932000074"
    network_vat_number: str | None = "FR44732829320"
    network_address: str = "1 place du Théâtre, 59000 Lille"
    network_email: str = "facturation@tiers-lieux.invalid"
    network_iban: str = "FR7630006000011234567890189"
    network_bic: str = "AGRIFRPP"
    # Outgoing mail; unset: messages are kept in the outbox and readable in the API (demo).
    smtp_url: str | None = None
    no_show_grace_minutes: int = 60
    # The automatic close of the month before: day of the month (the month's last day when
    # it has fewer) and time, Europe/Paris.
    monthly_close_day: int = 1
    monthly_close_time: time = time(2, 0)
    # The reminders of tomorrow's bookings, sent once a day at this time (UTC).
    reminders_time_utc: time = time(17, 0)
    # Retention of personal data, run nightly by the worker (billing/retention.py; the reasons
    # are in docs/privacy.md). Door scans keep their person at most three months (CNIL).
    scan_retention_days: int = 90
    visit_retention_months: int = 13
    outbox_retention_days: int = 90
    invitation_validity_days: int = 30
    # Where people write to exercise their rights (the /confidentialite page); unset: NETWORK_EMAIL.
    privacy_email: str | None = None
    # The street map's raster tiles (docs/configuration.md); "" draws no tiles (SVG map only).
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    # Stripe is off without a key: invoices are then emailed and paid by bank transfer.
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # a local Stripe-compatible server (tests)
    # Sign-in with an OpenID Connect provider (ProConnect by default); off without a client id.
    oidc_issuer: str = PROCONNECT_ISSUER
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid given_name usual_name email uid siret"
    oidc_provider_name: str = "ProConnect"
    # Our field <- the provider's claim; ProConnect's names by default.
    oidc_claims: tuple[tuple[str, str], ...] = DEFAULT_OIDC_CLAIMS
    oidc_timeout_ms: int = 5000
    oidc_cache_seconds: int = 3600
    # Whether the provider vouches for `email` even without `email_verified` (ProConnect does).
    oidc_trust_email: bool = True
    # A CA bundle to verify the provider's certificate with (a private CA); None: the system's.
    oidc_ca_file: str | None = None

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_client_id)

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    def check(self) -> None:
        """Refuse settings that would be unsafe for the mode."""
        if self.mode == "production":
            if self.secret_key == INSECURE_SECRET or len(self.secret_key) < 32:
                raise SettingsError(
                    "SECRET_KEY must be set to a random value of at least 32 characters in "
                    "production (generate one with: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'); use `tierslieux demo` to try the "
                    "service without one."
                )
            if not self.database_url:
                raise SettingsError("DATABASE_URL must be set in production.")
            if not self.redis_url:
                raise SettingsError("REDIS_URL must be set in production.")
            if self.oidc_client_id and not self.oidc_issuer.startswith("https://"):
                raise SettingsError("OIDC_ISSUER must be an https:// URL in production.")
            if self.oidc_client_id and not self.oidc_client_secret:
                raise SettingsError(
                    "OIDC_CLIENT_SECRET must be set in production when OIDC_CLIENT_ID is: the "
                    "provider refuses a token request without it (docs/configuration.md)."
                )
            if not self.pass_signing_keys:
                raise SettingsError(
                    "PASS_SIGNING_KEYS must be set in production: generate an entry with "
                    "`tierslieux passes rotate-key --print` (see docs/key-rotation.md)."
                )
            if self.stripe_api_key and not self.stripe_webhook_secret:
                raise SettingsError(
                    "STRIPE_WEBHOOK_SECRET must be set in production when STRIPE_API_KEY is: "
                    "without it no payment from Stripe is ever recorded (docs/configuration.md)."
                )
            if self.base_url.startswith("https://") and not self.trusted_proxies:
                # `tierslieux serve` speaks plain HTTP: an https BASE_URL means a TLS proxy in
                # front, and without TRUSTED_PROXIES every client would be that proxy.
                raise SettingsError(
                    "TRUSTED_PROXIES must be set in production when BASE_URL is https:// "
                    "(the address of the TLS proxy in front, e.g. 127.0.0.1); else every "
                    "client is the proxy and shares one sign-in throttle."
                )


def _claims(env: dict[str, str], name: str) -> tuple[tuple[str, str], ...]:
    """`field=claim` pairs, comma-separated, over the defaults (e.g. `family_name=family_name`)."""
    mapping = dict(DEFAULT_OIDC_CLAIMS)
    for pair in (env.get(name) or "").split(","):
        if not pair.strip():
            continue
        field_name, sep, claim = (part.strip() for part in pair.partition("="))
        if not sep or field_name not in OIDC_FIELDS or not claim:
            raise SettingsError(
                f"{name} takes field=claim pairs with fields among {', '.join(OIDC_FIELDS)},"
                f" got {pair.strip()!r}"
            )
        mapping[field_name] = claim
    return tuple(mapping.items())


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number of milliseconds, got {value}")
    return value


def _period(env: dict[str, str], name: str, default: int, *, most: int | None = None) -> int:
    value = _int(env, name, default)
    if value <= 0 or (most is not None and value > most):
        bound = f"1 to {most}" if most is not None else "at least 1"
        raise SettingsError(f"{name} must be {bound}, got {value}")
    return value


# The CNIL's reference for access control: door logs name a person three months at most.
MOST_SCAN_RETENTION_DAYS = 92


def _networks(env: dict[str, str], name: str) -> tuple[IPNetwork, ...]:
    try:
        return parse_networks(env.get(name) or "")
    except ValueError as error:
        raise SettingsError(
            f"{name} must be addresses or CIDR networks separated by commas: {error}"
        ) from None


def _time(env: dict[str, str], name: str, default: time) -> time:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise SettingsError(
            f"{name} must be a time of day, HH:MM or HH:MM:SS, got {raw!r}"
        ) from None


def _day_of_month(env: dict[str, str], name: str, default: int) -> int:
    day = _int(env, name, default)
    if not 1 <= day <= 31:
        raise SettingsError(f"{name} must be a day of the month, 1 to 31, got {day}")
    return day


def _tile_url(env: dict[str, str]) -> str:
    raw = env.get("MAP_TILE_URL")
    if raw is None:
        return Settings.map_tile_url
    url = raw.strip()
    if url and not (
        url.startswith(("https://", "http://"))
        and all(part in url for part in ("{z}", "{x}", "{y}"))
        and tile_origin(url)
    ):
        raise SettingsError(
            "MAP_TILE_URL must be an http(s) URL with {z}, {x} and {y} "
            f"(e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png), got {raw!r}"
        )
    return url


def tile_origin(url: str) -> str:
    """The origin a page's Content-Security-Policy must allow images from for these tiles.

    `https://{s}.tile.example.org/{z}/{x}/{y}.png` (Leaflet's subdomains) allows
    `https://*.tile.example.org`; "" when there are no tiles or the host is not plain.
    """
    if not url:
        return ""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].replace("{s}.", "*.")
    if not host or any(c in host for c in "{}'\" ;,") or scheme not in ("http", "https"):
        return ""
    return f"{scheme}://{host}"


_NETWORK_VARIABLES = {
    "network_name": "NETWORK_NAME",
    "network_legal_form": "NETWORK_LEGAL_FORM",
    "network_siret": "NETWORK_SIRET",
    "network_vat_number": "NETWORK_VAT_NUMBER",
    "network_address": "NETWORK_ADDRESS",
    "network_email": "NETWORK_EMAIL",
    "network_iban": "NETWORK_IBAN",
    "network_bic": "NETWORK_BIC",
    "stripe_api_key": "STRIPE_API_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "stripe_api_base": "STRIPE_API_BASE",
}


def load(env: dict[str, str] | None = None, mode: Mode | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    chosen = mode or env.get("APP_ENV", "production")
    if chosen not in ("production", "demo", "test"):
        raise SettingsError(f"APP_ENV must be production, demo or test, got {chosen!r}")
    return Settings(
        mode=chosen,  # type: ignore[arg-type]
        database_url=env.get("DATABASE_URL") or None,
        redis_url=env.get("REDIS_URL") or None,
        read_replica_url=env.get("READ_REPLICA_URL") or None,
        secret_key=env.get("SECRET_KEY") or INSECURE_SECRET,
        base_url=(env.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        data_dir=Path(env.get("DATA_DIR") or "var"),
        database_pool_size=_int(env, "DATABASE_POOL_SIZE", 20),
        database_connect_timeout_ms=_positive(env, "DATABASE_CONNECT_TIMEOUT_MS", 1000),
        database_acquire_timeout_ms=_positive(env, "DATABASE_ACQUIRE_TIMEOUT_MS", 1000),
        database_statement_timeout_ms=_positive(env, "DATABASE_STATEMENT_TIMEOUT_MS", 2000),
        worker_statement_timeout_ms=_positive(env, "WORKER_STATEMENT_TIMEOUT_MS", 600_000),
        redis_timeout_ms=_positive(env, "REDIS_TIMEOUT_MS", 500),
        access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 12 * 60),
        auth_cache_ms=_int(env, "AUTH_CACHE_MS", 30_000),
        login_free_attempts=_int(env, "LOGIN_FREE_ATTEMPTS", 10),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        pass_signing_keys=env.get("PASS_SIGNING_KEYS") or None,
        smtp_url=env.get("SMTP_URL") or None,
        no_show_grace_minutes=_int(env, "NO_SHOW_GRACE_MINUTES", 60),
        monthly_close_day=_day_of_month(env, "MONTHLY_CLOSE_DAY", 1),
        monthly_close_time=_time(env, "MONTHLY_CLOSE_TIME", time(2, 0)),
        reminders_time_utc=_time(env, "REMINDERS_TIME_UTC", time(17, 0)),
        scan_retention_days=_period(env, "SCAN_RETENTION_DAYS", 90, most=MOST_SCAN_RETENTION_DAYS),
        visit_retention_months=_period(env, "VISIT_RETENTION_MONTHS", 13),
        outbox_retention_days=_period(env, "OUTBOX_RETENTION_DAYS", 90),
        invitation_validity_days=_period(env, "INVITATION_VALIDITY_DAYS", 30),
        privacy_email=env.get("PRIVACY_EMAIL") or None,
        oidc_issuer=(env.get("OIDC_ISSUER") or PROCONNECT_ISSUER).rstrip("/"),
        oidc_client_id=env.get("OIDC_CLIENT_ID") or None,
        oidc_client_secret=env.get("OIDC_CLIENT_SECRET") or None,
        oidc_scopes=env.get("OIDC_SCOPES") or "openid given_name usual_name email uid siret",
        oidc_provider_name=env.get("OIDC_PROVIDER_NAME") or "ProConnect",
        oidc_claims=_claims(env, "OIDC_CLAIMS"),
        oidc_timeout_ms=_positive(env, "OIDC_TIMEOUT_MS", 5000),
        oidc_cache_seconds=_positive(env, "OIDC_CACHE_SECONDS", 3600),
        oidc_ca_file=env.get("OIDC_CA_FILE") or None,
        oidc_trust_email=(env.get("OIDC_TRUST_EMAIL") or "true").lower() in ("1", "true", "yes"),
        map_tile_url=_tile_url(env),
        map_tile_attribution=env.get("MAP_TILE_ATTRIBUTION") or Settings.map_tile_attribution,
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        log_json=(env.get("LOG_FORMAT") or "json") == "json",
        **{
            name: env[variable]
            for name, variable in _NETWORK_VARIABLES.items()
            if env.get(variable)
        },
    )
