"""The public directory: `/lieux`, the approved venues on a map and a list, and each venue's page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException

from booking.services import directory
from booking.services.open_data import KINDS
from service.kernel.auth import PUBLIC
from service.kernel.i18n import N_
from web import charts, maps
from web.directory import cached_page, json_ld
from web.i18n import translate
from web.labels import VENUE_WEEKDAY
from web.pages import current, language

MOST_PAGES = 200


def _week_words(lang: str) -> dict[str, Any]:
    """The words of every venue's week table, translated once per page rather than per venue."""
    return {
        "week_days": [translate(lang, VENUE_WEEKDAY[str(day)]) for day in range(7)],
        "closed_word": translate(lang, N_("closed")),
    }


class DirectoryController(Controller):
    path = "/lieux"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def directory(
        self,
        request: Request[Any, Any, Any],
        commune: str | None = None,
        kind: str | None = None,
        page: int = 1,
    ) -> Response[Any]:
        """Approved venues by commune and name, 50 a page; filters by commune and kind."""
        lang = language(request)
        error = None
        if kind and kind not in KINDS:
            error, kind = translate(lang, N_("Pick a kind of workspace from the list.")), None
        if not 1 <= page <= MOST_PAGES:
            error, page = translate(lang, N_("No such page.")), 1
        commune = (commune or "").strip()[:100] or None
        venues, total = await directory.approved(
            commune=commune,
            kind=kind,
            limit=directory.PAGE_SIZE,
            offset=(page - 1) * directory.PAGE_SIZE,
        )
        first = (page - 1) * directory.PAGE_SIZE + 1
        communes = await directory.communes()
        points = [
            {
                "id": v.id,
                "slug": v.slug,
                "name": v.name,
                "commune": v.commune,
                "latitude": v.latitude,
                "longitude": v.longitude,
            }
            for v in venues
        ]
        return cached_page(
            request,
            "directory/list.html",
            title=N_("Third places near you"),
            status_code=422 if error else 200,
            error=error,
            venues=venues,
            total=total,
            first=first,
            page=page,
            pages=max(1, -(-total // directory.PAGE_SIZE)),
            fingerprint=(commune, kind, page, venues, total, communes, error),
            communes=communes,
            kinds=KINDS,
            commune=commune or "",
            kind=kind or "",
            venue_map=charts.venue_map(points),
            street_map=maps.tile_map(
                request.app.state.settings,
                lang,
                "directory-street-map",
                points,
                {v.id: v for v in venues},
                lambda v: f"/lieux/{v['slug']}",
                first=first,
            ),
            signed_in=current(request) is not None,
            **_week_words(lang),
        )

    @get("/{slug:str}", opt=PUBLIC)
    async def venue(self, request: Request[Any, Any, Any], slug: str) -> Response[Any]:
        """A venue's own page, with its schema.org JSON-LD; its admins preview it before approval."""
        found = await directory.by_slug(slug[:120], current(request))
        if found is None:
            raise NotFoundException()
        venue, preview = found
        url = f"{request.app.state.settings.base_url}/lieux/{venue.slug}"
        response = cached_page(
            request,
            "directory/venue.html",
            title=N_("Third places near you"),
            fingerprint=(venue, preview),
            venue=venue,
            preview=preview,
            json_ld=json_ld(venue, url),
            signed_in=current(request) is not None,
            **_week_words(language(request)),
        )
        response.headers["Content-Language"] = language(request)
        return response
