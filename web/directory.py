"""What the public directory's pages need beyond a template: schema.org JSON-LD and ETags.

Search engines read a venue's JSON-LD (`Place` with its `OpeningHoursSpecification`); the
pages are the same for every visitor who is not signed in, so they carry an ETag and a
revisit answers 304 without the page.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar import Request, Response

from booking.services.directory import PublicVenue
from web.i18n import Message
from web.pages import current, page

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


def cached_page(
    request: Request[Any, Any, Any], template: str, *, title: Message, **context: Any
) -> Response[Any]:
    """The page rendered here, with an ETag; `If-None-Match` with it answers 304.

    A visitor who is not signed in gets a page any cache may keep a few minutes; a signed-in
    person's page (their menu) only their own browser, revalidated each time.
    """
    rendered = page(request, template, title=title, **context)
    engine = request.app.template_engine
    assert engine is not None
    body = (
        engine.get_template(template).render(**rendered.create_template_context(request)).encode()
    )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300"
        if current(request) is None and rendered.status_code == 200
        else "private, no-cache",
        "Vary": "Cookie",
    }
    sent = request.headers.get("if-none-match", "")
    if rendered.status_code == 200 and etag in [
        tag.strip().removeprefix("W/") for tag in sent.split(",")
    ]:
        return Response(b"", status_code=304, headers=headers)
    return Response(
        body,
        status_code=rendered.status_code,
        media_type="text/html; charset=utf-8",
        headers=headers,
        cookies=list(rendered.cookies),
    )
