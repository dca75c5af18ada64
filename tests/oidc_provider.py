"""A real OpenID provider for the tests: pyop's Provider (the OP library SATOSA runs on) behind a
small threaded HTTP server on a free local port.

pyop does the protocol: it parses and validates authorization requests (registered client,
redirect URI, scopes), issues single-use codes, checks PKCE and the client secret at the
token endpoint, signs id tokens with its RSA key and answers userinfo. This module only adds
HTTP and a sign-in form where a test (or Chromium) picks the person. The odd tokens some
tests need are made by driving the provider's own configuration: `id_token_lifetime` below
zero (expired tokens), a signing key whose public half is not the published one (a foreign
signature), a new signing key with a new `kid` (rotation).
"""

from __future__ import annotations

import html
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from Cryptodome.PublicKey import RSA
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwkest.jwk import RSAKey
from oic.oic.message import EndSessionRequest
from pyop.authz_state import AuthorizationState
from pyop.exceptions import InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo

from service.kernel.settings import Settings

CLIENT_ID = "pass-tiers-lieux-test"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"
# Another service registered at the same provider: its tokens are not for us.
OTHER_CLIENT_ID = "another-service"
OTHER_CLIENT_SECRET = "another-service-secret"
# ProConnect's scopes are named after the claims they give.
SCOPES = ("given_name", "usual_name", "email", "uid", "siret")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (pyop and OpenID Connect want https issuers);
    the tests hand the certificate to the app as OIDC_CA_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "provider.pem", folder / "provider-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def new_key(kid: str) -> RSAKey:
    return RSAKey(key=RSA.generate(2048), alg="RS256", kid=kid, use="sig")


class LocalProvider:
    """The provider, its people (`people[user_id] = claims`) and the keys it publishes."""

    def __init__(self, port: int, redirect_uris: list[str], post_logout: list[str]) -> None:
        self.issuer = f"https://127.0.0.1:{port}"
        self.people: dict[str, dict[str, Any]] = {}
        self.signing_key = new_key("key-1")
        self.published: list[RSAKey] = [self.signing_key]
        self.logouts = 0
        self.ca_file: Path | None = None
        # Seconds every answer waits (a provider that does not answer in time).
        self.stall = 0.0
        configuration = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid"],
        }
        clients = {
            CLIENT_ID: {
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout,
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
                "subject_type": "public",
            },
            OTHER_CLIENT_ID: {
                "client_secret": OTHER_CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
                "subject_type": "public",
            },
        }
        self.op = Provider(
            self.signing_key,
            configuration,
            AuthorizationState(HashBasedSubjectIdentifierFactory("test-salt")),
            clients,
            Userinfo(self.people),
            extra_scopes={scope: [scope] for scope in SCOPES},
        )

    # What tests change
    def rotate(self, kid: str) -> None:
        """A new signing key, published instead of the old one (a key rotation)."""
        self.signing_key = self.op.signing_key = new_key(kid)
        self.published = [self.signing_key]

    def sign_with_unpublished_key(self) -> None:
        """Sign with a key of the same `kid` whose public half nobody published (forgery)."""
        self.signing_key = self.op.signing_key = new_key(self.published[0].kid)

    def sign_with_unknown_kid(self, kid: str) -> None:
        self.signing_key = self.op.signing_key = new_key(kid)

    def expire_tokens(self) -> None:
        self.op.id_token_lifetime = -3600

    def authorize(self, query: str, user_id: str) -> str:
        """The redirect to the client after `user_id` signs in (code and state)."""
        request = self.op.parse_authentication_request(query)
        response = self.op.authorize(request, user_id)
        return str(response.request(request["redirect_uri"], False))


class _Handler(BaseHTTPRequestHandler):
    provider: LocalProvider

    def log_message(self, *args: Any) -> None:  # quiet in test output
        return

    def _send(
        self, status: int, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body), "application/json")

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        provider = self.provider
        time.sleep(provider.stall)
        if path == "/.well-known/openid-configuration":
            self._json(200, provider.op.provider_configuration.to_dict())
        elif path == "/jwks":
            self._json(200, {"keys": [key.serialize() for key in provider.published]})
        elif path == "/authorize":
            try:
                provider.op.parse_authentication_request(query)
            except InvalidAuthenticationRequest as error:
                self._send(400, f"<p>invalid request: {html.escape(str(error))}</p>", "text/html")
                return
            options = "".join(
                f'<option value="{html.escape(uid)}">{html.escape(c.get("email", uid))}</option>'
                for uid, c in provider.people.items()
            )
            self._send(
                200,
                "<!doctype html><html lang='fr'><title>Fournisseur d'identité de test</title>"
                "<main><h1>Fournisseur d'identité de test</h1>"
                f"<form method='post' action='/authorize'><input type='hidden' name='query' "
                f"value='{html.escape(query, quote=True)}'>"
                f"<label for='user'>Compte</label><select id='user' name='user'>{options}</select>"
                "<button type='submit'>Se connecter</button></form></main></html>",
                "text/html; charset=utf-8",
            )
        elif path == "/userinfo":
            try:
                answer = provider.op.handle_userinfo_request(query, dict(self.headers))
            except OAuthError as error:
                self._json(401, {"error": str(error)})
                return
            self._json(200, answer.to_dict())
        elif path == "/logout":
            provider.logouts += 1
            request = EndSessionRequest().deserialize(query, "urlencoded")
            target = provider.op.do_post_logout_redirect(request)
            if target:
                self._send(303, "", "text/plain", {"Location": target})
            else:
                self._send(200, "<p>Vous êtes déconnecté.</p>", "text/html; charset=utf-8")
        else:
            self._send(404, "not found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        provider = self.provider
        time.sleep(provider.stall)
        if self.path == "/authorize":
            form = parse_qs(body)
            try:
                target = provider.authorize(form["query"][0], form["user"][0])
            except (InvalidAuthenticationRequest, KeyError) as error:
                self._send(400, f"<p>invalid request: {html.escape(str(error))}</p>", "text/html")
                return
            self._send(303, "", "text/plain", {"Location": target})
        elif self.path == "/token":
            try:
                answer = provider.op.handle_token_request(body, dict(self.headers))
            except OAuthError as error:
                self._json(
                    400,
                    {
                        "error": getattr(error, "oauth_error", "invalid_request"),
                        "error_description": str(error),
                    },
                )
                return
            self._json(200, answer.to_dict())
        else:
            self._send(404, "not found", "text/plain")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up waiting (the timeout tests) closed its end: nothing to report.
        return


@contextmanager
def running_provider(
    folder: Path, redirect_uris: list[str], post_logout: list[str]
) -> Iterator[LocalProvider]:
    """A provider on a free port over https, served by a thread for the block's duration."""
    cert_file, key_file = self_signed_certificate(folder)
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    provider = LocalProvider(port, redirect_uris, post_logout)
    provider.ca_file = cert_file
    handler = type("Handler", (_Handler,), {"provider": provider})
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def authorize_query(location: str) -> str:
    return location.partition("?")[2]


def with_params(location: str, **params: str) -> str:
    base, _, query = location.partition("?")
    values = {k: v[0] for k, v in parse_qs(query).items()}
    values.update(params)
    return f"{base}?{urlencode(values)}"


def signing_in_with(settings: Settings, issuer: str, ca_file: str) -> Settings:
    """The test settings, with sign-in through the provider at `issuer` (1.5 s per call)."""
    return replace(
        settings,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_timeout_ms=1500,
        oidc_ca_file=ca_file,
    )


def main() -> None:
    """`python -m tests.oidc_provider FOLDER REDIRECT_URI POST_LOGOUT_URI`: the provider in a
    process of its own (that a test can freeze with SIGSTOP), with Camille as its one person.
    Prints its issuer and certificate file on one line, then serves until it is terminated."""
    import signal
    import sys

    folder, redirect_uri, post_logout = sys.argv[1:4]
    with running_provider(Path(folder), [redirect_uri], [post_logout]) as provider:
        provider.people["camille"] = {
            "given_name": "Camille",
            "usual_name": "Martin",
            "email": "camille.martin@lille.example.fr",
            "uid": "agent-123",
            "siret": "21590350100017",
        }
        print(provider.issuer, provider.ca_file, flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    main()
