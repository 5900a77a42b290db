"""/dashboard: a small analyst page served from local files (no CDN). It holds no data itself; its
script asks for a token or API key, keeps it in sessionStorage and calls the API with it."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.errors import ApiError

router = APIRouter(include_in_schema=False)
_TYPES = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
# Scripts, styles and requests only from this origin; data is rendered as text, never as HTML.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _static(name: str) -> str:
    return resources.files("api.static").joinpath(name).read_text()


@router.get("/dashboard")
async def dashboard() -> HTMLResponse:
    return HTMLResponse(_static("dashboard.html"), headers=_HEADERS)


@router.get("/dashboard/static/{name}")
async def dashboard_static(name: str) -> Response:
    if name not in _TYPES:  # a fixed list: no path from the request reaches the file system
        raise ApiError(404, "not_found", "no such file")
    return Response(_static(name), media_type=_TYPES[name], headers=_HEADERS)
