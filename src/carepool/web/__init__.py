"""The portal shell: server-rendered pages (Jinja templates styled with the GOV.UK Design
System) over the same application layer as the API; charts drawn by Plotly in the browser
where JavaScript runs, tables always. ``pages`` (the routes), ``views`` (what each page
shows, from the published figures), ``charts`` (figure JSON), ``forms`` (CSRF and fields),
``assets`` (GOV.UK Frontend and Plotly's files)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

from carepool.errors import NotFound
from carepool.web import assets, pages
from carepool.web.report import report_html, write_report
from carepool.web.views import Views


def install(app: FastAPI) -> None:
    """Add the portal's pages and static files to the application."""
    app.state.views = Views(app.state.data)
    app.state.html_error = pages.error_page
    frontend = assets.govuk_frontend()
    app.state.govuk_frontend = frontend
    if frontend is not None:
        app.mount("/static/govuk", StaticFiles(directory=frontend), name="govuk")
        app.mount("/assets", StaticFiles(directory=frontend / "assets"), name="govuk-assets")

    @app.get("/static/app.mjs", include_in_schema=False)
    def script() -> FileResponse:
        return FileResponse(assets.OWN / "app.mjs", media_type="text/javascript")

    @app.get("/static/portal.css", include_in_schema=False)
    def styles() -> FileResponse:
        return FileResponse(assets.OWN / "portal.css", media_type="text/css")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            assets.PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.include_router(pages.router)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        from carepool.api import problem

        if request.url.path.startswith("/api/"):
            return problem(404, "no such route")  # type: ignore[return-value]
        return pages.error_page(request, 404, str(NotFound("there is no page here")))


__all__ = ["install", "report_html", "write_report"]
