"""Leaflet and its marker clustering, served from web/frontend/node_modules (npm, pinned by its lock)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException

from service.kernel.auth import PUBLIC
from web.assets import MAP_ASSETS


class MapAssetsController(Controller):
    path = "/map-assets"
    include_in_schema = False

    @get("/{name:str}", opt=PUBLIC)
    async def asset(self, name: str) -> Response[bytes]:
        """Only the files the map names: never a path into node_modules."""
        path = MAP_ASSETS.get(name)
        if path is None:
            raise NotFoundException()
        media_type = "text/css" if name.endswith(".css") else "text/javascript"
        return Response(
            path.read_bytes(),
            media_type=f"{media_type}; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )
