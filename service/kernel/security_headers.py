"""The browser-facing security headers every response carries (OWASP Secure Headers).

- `Content-Security-Policy`: pages run scripts and styles from our own origin only, so an
  injected `<script>` or `onclick=` never runs even if a template forgot to escape;
  `frame-ancestors 'none'` stops clickjacking; `object-src 'none'`, `base-uri 'self'` and
  `form-action 'self'` close the classic bypasses. API answers (JSON, files) get
  `default-src 'none'`: nothing in them is meant to run or load anything.
- `X-Content-Type-Options: nosniff`: a file is what its Content-Type says (a CSV or a
  JSON answer is never run as a script or rendered as HTML).
- `Referrer-Policy: strict-origin-when-cross-origin`: addresses carrying a secret
  (invitation links, calendar feeds) never leave the site in full.
- `Strict-Transport-Security`, only when the service is served over https (`BASE_URL`
  starts with `https://`): on plain http the header is meaningless, and on a developer's
  machine it would pin `localhost` to https for a year.

Some paths cannot live under the strict policy (a third-party interface with its own
scripts): the composition root gives them their own policy by path prefix, with a reason.
A handler that sets a header itself keeps it. The headers are added where the app itself
is called (not in a route middleware), so that answers given before routing (an unknown
path's 404, a 405) and mounted applications carry them too.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def page_policy(image_origins: Sequence[str] = ()) -> str:
    """The page policy, also loading images from these origins (the street map's tiles)."""
    if not image_origins:
        return PAGE_POLICY
    return PAGE_POLICY.replace("img-src 'self'", "img-src 'self' " + " ".join(image_origins))


HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(
        self,
        *,
        https: bool,
        api_prefix: str = "/api/",
        policies: Sequence[tuple[str, str]] = (),
        image_origins: Sequence[str] = (),
    ) -> None:
        """`policies`: (path prefix, Content-Security-Policy) pairs that replace the page policy;
        `image_origins`: where pages may load images from besides the service (map tiles)."""
        self.https = https
        self.api_prefix = api_prefix
        self.policies = tuple(policies)
        self.page_policy = page_policy(image_origins)

    def policy(self, path: str) -> str:
        for prefix, policy in self.policies:
            if path.startswith(prefix):
                return policy
        return API_POLICY if path.startswith(self.api_prefix) else self.page_policy

    def wrap(self, scope: Scope, send: Send) -> Send:
        """`send`, adding the headers to the start of an HTTP response."""
        policy = self.policy(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in (
                    ("Content-Security-Policy", policy),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "strict-origin-when-cross-origin"),
                    *((("Strict-Transport-Security", HSTS),) if self.https else ()),
                ):
                    if name not in headers:
                        headers[name] = value
            await send(message)

        return send_with_headers
