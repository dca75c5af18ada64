"""The OpenID Connect relying party: discovery, the authorization request, the code exchange,
and the id token checked against the provider's keys (ProConnect or any provider).

Signatures are checked by PyJWT (with `cryptography`), never by hand. The provider's
discovery document and key set are cached per process for `OIDC_CACHE_SECONDS`; a token
signed with a key id the cache does not know makes one fresh fetch of the key set (the
provider rotated its keys), at most once a minute. Every call to the provider has a timeout
(`OIDC_TIMEOUT_MS`): past it, or on any answer we cannot use, `ProviderUnavailable`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.problems import register
from service.kernel.settings import Settings

# Asymmetric algorithms only: an HMAC "signature" made with our own client secret proves
# nothing about the provider, and `none` is never accepted.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 60
REFETCH_PAUSE_SECONDS = 60


class SignInRefused(DomainError):
    """The provider's answer cannot be trusted or used: this sign-in stops, nothing is created."""

    default_detail = N_("The sign-in with your identity provider could not be completed.")


class ProviderUnavailable(DomainError):
    default_detail = N_("The identity provider did not answer. Try again in a few minutes.")


register(SignInRefused, "oidc-sign-in-refused", 401, "Sign-in with the provider refused")
register(ProviderUnavailable, "oidc-provider-unavailable", 503, "Identity provider unavailable")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser's trip to the provider must bring back: kept server-side by `state`."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> PendingSignIn:
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
        )

    @property
    def code_challenge(self) -> str:
        return _b64(hashlib.sha256(self.code_verifier.encode()).digest())


@dataclass
class _Cache:
    metadata: dict[str, Any] | None = None
    metadata_at: float = 0.0
    keys: jwt.PyJWKSet | None = None
    keys_at: float = 0.0
    last_refetch: float = 0.0
    issuer: str = ""


@dataclass
class Provider:
    """One configured provider, its cached metadata and keys (one per process)."""

    settings: Settings
    cache: _Cache = field(default_factory=_Cache)

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.settings.oidc_timeout_ms / 1000)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client bounded by OIDC_TIMEOUT_MS, verifying TLS (OIDC_CA_FILE if set)."""
        verify: ssl.SSLContext | bool = True
        if self.settings.oidc_ca_file:
            verify = ssl.create_default_context(cafile=self.settings.oidc_ca_file)
        return httpx.AsyncClient(timeout=self.timeout, verify=verify)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self.client() as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError):
            raise ProviderUnavailable() from None
        if not isinstance(body, dict):
            raise ProviderUnavailable()
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (cached), whose issuer must be the configured one."""
        now = time.monotonic()
        if (
            self.cache.metadata is None
            or now - self.cache.metadata_at > self.settings.oidc_cache_seconds
        ):
            issuer = self.settings.oidc_issuer
            document = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            if document.get("issuer") != issuer or not all(
                isinstance(document.get(k), str)
                for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            ):
                raise ProviderUnavailable()
            self.cache.metadata, self.cache.metadata_at = document, now
        return self.cache.metadata

    async def _key_set(self, *, fresh: bool = False) -> jwt.PyJWKSet:
        now = time.monotonic()
        stale = now - self.cache.keys_at > self.settings.oidc_cache_seconds
        if self.cache.keys is None or stale or fresh:
            document = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                self.cache.keys = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWTError:
                raise ProviderUnavailable() from None
            self.cache.keys_at = now
        return self.cache.keys

    async def signing_key(self, kid: str | None) -> jwt.PyJWK:
        """The provider's key named `kid`; one fresh fetch when it is unknown (rotation)."""
        keys = await self._key_set()
        found = _find(keys, kid)
        now = time.monotonic()
        if found is None and now - self.cache.last_refetch > REFETCH_PAUSE_SECONDS:
            self.cache.last_refetch = now
            found = _find(await self._key_set(fresh=True), kid)
        if found is None:
            raise SignInRefused(
                N_("The identity token is signed with a key the provider does not publish.")
            )
        return found

    async def authorization_url(self, pending: PendingSignIn, redirect_uri: str) -> str:
        metadata = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.oidc_client_id or "",
                "redirect_uri": redirect_uri,
                "scope": self.settings.oidc_scopes,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": pending.code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{metadata['authorization_endpoint']}?{query}"

    async def exchange(
        self, code: str, pending: PendingSignIn, redirect_uri: str
    ) -> dict[str, Any]:
        """Trade the code for tokens; the id token's claims once every check has passed,
        merged with the userinfo claims when the provider has an endpoint for them."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.oidc_client_id or "",
            "client_secret": self.settings.oidc_client_secret or "",
            "code_verifier": pending.code_verifier,
        }
        try:
            async with self.client() as client:
                response = await client.post(metadata["token_endpoint"], data=form)
        except httpx.HTTPError:
            raise ProviderUnavailable() from None
        if response.status_code >= 500:
            raise ProviderUnavailable()
        if response.status_code != 200:
            # The provider refused the code: reused, expired, another client's, or PKCE failed.
            raise SignInRefused(
                N_("The provider refused this sign-in code (already used or expired).")
            )
        try:
            tokens = response.json()
            id_token = str(tokens["id_token"])
            access_token = str(tokens.get("access_token") or "")
        except (ValueError, KeyError, TypeError):
            raise SignInRefused() from None
        claims = await self.verify_id_token(id_token, pending.nonce)
        userinfo = await self.userinfo(metadata, access_token, claims)
        return {**userinfo, **claims, "_id_token": id_token}

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise SignInRefused() from None
        if header.get("alg") not in ALGORITHMS:
            raise SignInRefused(N_("The identity token is not signed with an accepted algorithm."))
        key = await self.signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[str(header["alg"])],
                audience=self.settings.oidc_client_id,
                issuer=self.settings.oidc_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignInRefused(N_("The identity token has expired.")) from None
        except jwt.InvalidSignatureError:
            raise SignInRefused(N_("The identity token's signature is wrong.")) from None
        except jwt.PyJWTError:
            raise SignInRefused(N_("The identity token is not meant for this service.")) from None
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            raise SignInRefused(N_("The identity token does not answer this sign-in (nonce)."))
        return claims

    async def userinfo(
        self, metadata: dict[str, Any], access_token: str, claims: dict[str, Any]
    ) -> dict[str, Any]:
        """The userinfo claims (JSON, or a JWT signed by the provider as ProConnect sends)."""
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint or not access_token:
            return {}
        try:
            async with self.client() as client:
                response = await client.get(
                    endpoint, headers={"Authorization": f"Bearer {access_token}"}
                )
        except httpx.HTTPError:
            raise ProviderUnavailable() from None
        if response.status_code != 200:
            raise ProviderUnavailable()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            token = response.text.strip()
            try:
                header = jwt.get_unverified_header(token)
                key = await self.signing_key(header.get("kid"))
                info: dict[str, Any] = jwt.decode(
                    token,
                    key.key,
                    algorithms=[a for a in ALGORITHMS if a == header.get("alg")],
                    audience=self.settings.oidc_client_id,
                    issuer=self.settings.oidc_issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"verify_exp": False},
                )
            except jwt.PyJWTError:
                raise SignInRefused() from None
        else:
            try:
                info = response.json()
            except ValueError:
                raise ProviderUnavailable() from None
        if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
            raise SignInRefused(N_("The provider's user information names someone else."))
        return info

    async def end_session_url(self, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to sign out at the provider too (None if it has no such page)."""
        try:
            metadata = await self.metadata()
        except ProviderUnavailable:
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "state": secrets.token_urlsafe(16),
                "post_logout_redirect_uri": post_logout_redirect_uri,
            }
        )
        return f"{endpoint}?{query}"


def _find(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    for key in keys.keys:
        if kid is None or key.key_id == kid:
            return key
    return None


def mapped(settings: Settings, claims: dict[str, Any]) -> dict[str, Any]:
    """Our fields (given_name, family_name, email, email_verified, uid, siret) from the claims."""
    return {field_name: claims.get(claim) for field_name, claim in settings.oidc_claims}


_PROVIDERS: dict[tuple[str, str], Provider] = {}


def provider(settings: Settings) -> Provider:
    """This process's provider for these settings (its cache lives as long as the process)."""
    key = (settings.oidc_issuer, settings.oidc_client_id or "")
    found = _PROVIDERS.get(key)
    if found is None or found.settings is not settings:
        cache = found.cache if found is not None else _Cache()
        found = _PROVIDERS[key] = Provider(settings, cache)
    return found
