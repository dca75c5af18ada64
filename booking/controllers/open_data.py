"""Open data endpoints: public, cacheable (ETag / 304), open to every origin."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from booking.services import open_data
from service.kernel.auth import PUBLIC


def _cached(request: Request[Any, Any, Any], body: bytes, media_type: str) -> Response[bytes]:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "Access-Control-Allow-Origin": "*",
    }
    sent = request.headers.get("if-none-match", "")
    if etag in [tag.strip().removeprefix("W/") for tag in sent.split(",")] or sent.strip() == "*":
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class OpenDataController(Controller):
    path = "/opendata"
    tags = ["open data"]

    @get(
        "/venues.geojson",
        opt=PUBLIC,
        media_type="application/geo+json",
        summary="Approved venues, RFC 7946 GeoJSON",
        responses={
            200: ResponseSpec(
                data_container=dict[str, Any],
                media_type="application/geo+json",
                description="A FeatureCollection of Points, longitude first",
            )
        },
    )
    async def venues_geojson(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        document = open_data.geojson(await open_data.approved_venues())
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return _cached(request, body, "application/geo+json")

    @get(
        "/venues.csv",
        opt=PUBLIC,
        media_type="text/csv; charset=utf-8",
        summary="Approved venues as CSV",
    )
    async def venues_csv(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        body = open_data.to_csv(await open_data.approved_venues()).encode()
        return _cached(request, body, "text/csv; charset=utf-8")
