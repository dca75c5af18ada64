"""What the public directory's pages need beyond a template: schema.org JSON-LD and ETags.

Search engines read a venue's JSON-LD (`Place` with its `OpeningHoursSpecification`); the
pages are the same for every visitor who is not signed in, so they carry an ETag and a
revisit answers 304 without the page.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from litestar import Request, Response

from booking.services.directory import PublicVenue
from web.i18n import LOCALE_DIR, Message
from web.pages import TEMPLATES, current, language, page

SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def json_ld(venue: PublicVenue, url: str) -> str:
    """The venue as a schema.org `Place`, safe to put inside a `<script>` element."""
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Place",
        "@id": url,
        "url": url,
        "name": venue.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": venue.address,
            "postalCode": venue.postcode,
            "addressLocality": venue.commune,
            "addressCountry": "FR",
        },
        "geo": {
            "@type": "GeoCoordinates",
            "latitude": float(venue.latitude),
            "longitude": float(venue.longitude),
        },
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[day]}",
                "opens": f"{opens:%H:%M}",
                "closes": f"{closes:%H:%M}",
            }
            for day, opens, closes in venue.week
        ],
        "amenityFeature": [
            {"@type": "LocationFeatureSpecification", "name": service, "value": True}
            for service in venue.services
        ],
    }
    if venue.description:
        document["description"] = venue.description
    if venue.website:
        document["sameAs"] = venue.website
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # Nothing in the data may close the <script> element or open a comment in it.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@lru_cache(maxsize=1)
def render_version() -> str:
    """A digest of the templates and catalogues: a new release never reuses an old ETag."""
    digest = hashlib.sha256()
    for path in sorted([*TEMPLATES.rglob("*.html"), *LOCALE_DIR.rglob("*.po")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _matches(request: Request[Any, Any, Any], etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return etag in [tag.strip().removeprefix("W/") for tag in sent.split(",")]


def cached_page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    title: Message,
    fingerprint: object = None,
    **context: Any,
) -> Response[Any]:
    """The page rendered here, with an ETag; `If-None-Match` with it answers 304.

    A visitor who is not signed in gets a page any cache may keep a few minutes; its ETag is
    a digest of what the page shows (`fingerprint`: the rows read), the language and the
    release, so a revalidation answers 304 without rendering. A signed-in person's page
    (their menu, their form token) is only for their own browser, its ETag the page's digest.
    """
    anonymous = current(request) is None
    status_code = int(context.get("status_code", 200))
    etag = None
    if anonymous and fingerprint is not None:
        key = repr((render_version(), language(request), template, status_code, fingerprint))
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": "public, max-age=300"
        if anonymous and status_code == 200
        else "private, no-cache",
        "Vary": "Cookie",
    }
    if etag is not None and status_code == 200 and _matches(request, etag):
        return Response(b"", status_code=304, headers={**headers, "ETag": etag})
    rendered = page(request, template, title=title, **context)
    engine = request.app.template_engine
    assert engine is not None
    body = (
        engine.get_template(template).render(**rendered.create_template_context(request)).encode()
    )
    etag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers["ETag"] = etag
    if rendered.status_code == 200 and _matches(request, etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(
        body,
        status_code=rendered.status_code,
        media_type="text/html; charset=utf-8",
        headers=headers,
        cookies=list(rendered.cookies),
    )
