"""The dashboard's web application: pages, the JSON API behind every chart, live streams, erasure.

Every route needs a token (``auth``); per-ID data and erasure need an admin's. Each request opens
the event store in its own worker thread (SQLite connections stay in the thread that made them; a
MySQL connection per request is cheap next to a page's charts) and the numbers come from
``charts``, which calls face_report's functions. The chart library is the ``plotly`` package's own
``plotly.min.js``, and the API documentation's Swagger UI comes from the ``fastapi-offline`` wheel,
both served from here: nothing is fetched from the internet, by the server or the page.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

import fastapi_offline
import plotly
from face_analytics.erase import ErasureRefused, erase_face
from face_analytics.report import period_ns
from face_sink.mysql_store import DatabaseUrlError, open_existing_store
from face_sink.schema import EventStore
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from identity_node.descriptor import DESCRIPTOR_BACKENDS
from identity_node.gallery_store import GalleryInUseError
from pydantic import BaseModel
from signage_node.offers import load_rules

from face_dashboard import charts
from face_dashboard.auth import Role, admin, staff
from face_dashboard.live import StoreWatcher
from face_dashboard.settings import DashboardSettings
from face_dashboard.stream import CameraStreams

STATIC = files("face_dashboard") / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI's files from the fastapi-offline wheel: FastAPI's own /docs page loads them from a CDN."""
DOCS_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
STREAM_CHECK_S = 0.25  # how often a live stream looks at the watcher's counters (in memory)
KEEPALIVE_S = 15.0  # a comment line keeps proxies from closing a quiet stream
MJPEG_BOUNDARY = "frame"
MJPEG_CHECK_S = 0.05  # a new frame goes out within this of its arrival
OFFER_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
ASSETS = {
    "dashboard.js": "text/javascript",
    "signage.js": "text/javascript",
    "face.js": "text/javascript",
    "style.css": "text/css",
}

Staff = Annotated[Role, Depends(staff)]
Admin = Annotated[Role, Depends(admin)]


def period(
    start: Annotated[
        str | None, Query(description="period start, ISO 8601 (no zone: UTC), inclusive")
    ] = None,
    end: Annotated[str | None, Query(description="period end, ISO 8601 (no zone: UTC), exclusive")] = None,
    camera: Annotated[str | None, Query(description="only this camera (default: all)")] = None,
) -> charts.Period:
    """``face_report``'s ``--start``/``--end``/``--camera-id``, checked the same way."""
    try:
        since_ns, until_ns = period_ns(start, end)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from None
    return charts.Period(since_ns, until_ns, camera or None)


PeriodQuery = Annotated[charts.Period, Depends(period)]


class Me(BaseModel):
    role: Role


class Erased(BaseModel):
    face_id: int
    descriptors: int
    events: int
    crops: int
    frames: int


def create_app(settings: DashboardSettings) -> FastAPI:
    """The application for one configuration (tests make one per store)."""
    rules = load_rules(settings.offers_file)

    def open_store() -> EventStore:
        return open_existing_store(settings.database, visit_gap_s=settings.visit_gap_s)

    watcher = StoreWatcher(settings, open_store, rules)
    streams = CameraStreams(settings.stream_cameras, settings.stream_topic, settings.stream_fps)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watcher.start()
        streams.start()
        yield
        streams.stop()
        watcher.stop()

    app = FastAPI(
        title="Store dashboard",
        summary="face_report's numbers for a period and camera, live; per-ID data and erasure for admins",
        description="Every request needs a token: HTTP Basic (any user name, the token as password) or "
        "`Authorization: Bearer <token>`. Periods are ISO 8601, UTC when no zone is given.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, behind a token like every other route
    )
    app.state.settings = settings

    @contextmanager
    def store() -> Iterator[EventStore]:
        try:
            opened = open_store()
        except DatabaseUrlError as err:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from None
        try:
            yield opened
        finally:
            opened.close()

    def page(name: str) -> HTMLResponse:
        return HTMLResponse((STATIC / name).read_text())

    @app.get("/", include_in_schema=False)
    def dashboard_page(_: Staff) -> HTMLResponse:
        return page("dashboard.html")

    @app.get("/signage/{camera_id}", include_in_schema=False)
    def signage_page(camera_id: str, _: Staff) -> HTMLResponse:
        watcher.signage(camera_id)  # its screen starts taking frames now
        return page("signage.html")

    @app.get("/faces/{face_id}", include_in_schema=False)
    def face_page(face_id: int, _: Admin) -> HTMLResponse:
        return page("face.html")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Staff) -> dict:
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(_: Staff) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: JSON API",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
        )

    @app.get("/static/docs/{name}", include_in_schema=False)
    def docs_asset(name: str, _: Staff) -> FileResponse:
        if name not in DOCS_ASSET_TYPES:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return FileResponse(DOCS_ASSETS / name, media_type=DOCS_ASSET_TYPES[name])

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js(_: Staff) -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str, _: Staff) -> Response:
        if name not in ASSETS:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return Response((STATIC / name).read_bytes(), media_type=ASSETS[name])

    @app.get("/offer-images/{path:path}", include_in_schema=False)
    def offer_image(path: str, _: Staff) -> FileResponse:
        """An offer's ``image`` (a path relative to the offers file's folder), for the signage page;
        nothing outside that folder and nothing but pictures."""
        folder = Path(settings.offers_file).resolve().parent
        picture = (folder / path).resolve()
        kind = OFFER_IMAGE_TYPES.get(picture.suffix.lower())
        if kind is None or not picture.is_relative_to(folder) or not picture.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such offer image")
        return FileResponse(picture, media_type=kind)

    @app.get("/api/me", tags=["access"])
    def me(role: Staff) -> Me:
        """The caller's role: the page shows per-ID links and the erase button to admins only."""
        return Me(role=role)

    @app.get("/api/cameras", tags=["charts"])
    def cameras(_: Staff) -> list[str]:
        """Cameras that saw an identified face."""
        with store() as s:
            return charts.cameras(s)

    @app.get("/api/summary", tags=["charts"])
    def summary(_: Staff, p: PeriodQuery) -> charts.SummaryOut:
        """face_report's summary (customers, new vs repeat, gender, age buckets by gender) of the
        period; customers now (last ``now_window_s``) and today (UTC day) for the tiles."""
        with store() as s:
            return charts.period_summary(s, p, time.time_ns(), settings.now_window_s)

    @app.get("/api/age_by_face", tags=["charts"])
    def age_by_face(_: Staff, p: PeriodQuery) -> list[charts.ProfileOut]:
        """Every age estimate of every face ID and its median (face_report's age_by_face.png)."""
        with store() as s:
            return charts.age_by_face(charts.read_period(s, p), settings.visit_gap_s)

    @app.get("/api/repeat", tags=["charts"])
    def repeat(_: Staff, p: PeriodQuery, by: Literal["day", "week"] = "day") -> list[charts.RepeatOut]:
        """Repeat customers per UTC day or ISO week: new (first visit ever) vs returning."""
        with store() as s:
            return charts.repeat_out(charts.read_period(s, p), by)

    @app.get("/api/visits_per_hour", tags=["charts"])
    def visits_per_hour(_: Staff, p: PeriodQuery) -> list[charts.HourOut]:
        """Store visits (all cameras merged) by the UTC hour they began in."""
        with store() as s:
            return charts.visits_per_hour(charts.read_period(s, p))

    @app.get("/api/dwell", tags=["charts"])
    def dwell(_: Staff, p: PeriodQuery) -> charts.DwellOut:
        """Dwell seconds per visit by camera and by age/gender bucket (face_report's dwell tables)."""
        with store() as s:
            return charts.dwell_out(charts.read_period(s, p))

    @app.get("/api/journeys", tags=["charts"])
    def journeys(_: Staff, p: PeriodQuery) -> charts.JourneysOut:
        """Journeys between cameras, the transition matrix and transit times (face_report's)."""
        with store() as s:
            return charts.journeys_out(charts.read_period(s, p))

    @app.get(
        "/api/heatmap/{camera_id}.png",
        tags=["charts"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def heatmap_png(camera_id: str, _: Staff, p: PeriodQuery) -> Response:
        """face_report's heat map of one camera (heat_<camera>.png) for the period."""
        with store() as s:
            png, _numbers = charts.heat_png(s, camera_id, p)
        return Response(png, media_type="image/png")

    @app.get("/api/heatmap/{camera_id}", tags=["charts"])
    def heatmap(camera_id: str, _: Staff, p: PeriodQuery) -> charts.HeatOut:
        """The numbers of a camera's heat map: events drawn and their time-weighted seconds."""
        with store() as s:
            return charts.heat_png(s, camera_id, p)[1]

    def event_stream(
        request: Request, version: Callable[[], int], payload: Callable[[], str]
    ) -> StreamingResponse:
        """Server-sent events: ``payload()`` whenever ``version()`` changes, a comment when quiet."""

        async def lines() -> AsyncIterator[str]:
            sent, quiet_s = None, 0.0
            while not await request.is_disconnected():
                if (current := version()) != sent:
                    sent, quiet_s = current, 0.0
                    yield f"data: {payload()}\n\n"
                elif quiet_s >= KEEPALIVE_S:
                    quiet_s = 0.0
                    yield ": keepalive\n\n"
                await asyncio.sleep(STREAM_CHECK_S)
                quiet_s += STREAM_CHECK_S

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(lines(), media_type="text/event-stream", headers=headers)

    @app.get("/api/live", tags=["live"], response_class=StreamingResponse)
    def live(request: Request, _: Staff) -> StreamingResponse:
        """Server-sent events: one ``{"version": n}`` message whenever the store's events change."""
        return event_stream(
            request, lambda: watcher.version, lambda: json.dumps({"version": watcher.version})
        )

    def offer_json(camera_id: str) -> str:
        shown = watcher.signage(camera_id).shown
        return shown.as_json() if shown else json.dumps({"camera_id": camera_id, "rule": None, "offer": None})

    @app.get("/api/signage/{camera_id}", tags=["signage"])
    def signage_now(camera_id: str, _: Staff) -> dict:
        """What the camera's signage screen shows now: the signage node's offer JSON (offer null: nothing)."""
        return json.loads(offer_json(camera_id))

    @app.get("/api/signage/{camera_id}/live", tags=["signage"], response_class=StreamingResponse)
    def signage_live(camera_id: str, request: Request, _: Staff) -> StreamingResponse:
        """Server-sent events: the offer JSON whenever the camera's screen changes."""
        feed = watcher.signage(camera_id)
        return event_stream(request, lambda: feed.version, lambda: offer_json(camera_id))

    @app.get("/api/streams", tags=["live"])
    def stream_cameras(_: Staff) -> list[str]:
        """Cameras whose live annotated picture ``/api/stream/{camera}.mjpg`` serves."""
        return list(streams.cameras)

    @app.get(
        "/api/stream/{camera_id}.mjpg",
        tags=["live"],
        response_class=StreamingResponse,
        responses={200: {"content": {"multipart/x-mixed-replace": {}}}},
    )
    def stream(camera_id: str, request: Request, _: Staff) -> StreamingResponse:
        """The camera's annotated images as MJPEG while the graph runs (404: not a stream camera)."""
        if camera_id not in streams.cameras:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{camera_id} is not in stream_cameras")

        async def parts() -> AsyncIterator[bytes]:
            sent = None
            while not await request.is_disconnected():
                latest = streams.latest(camera_id)
                if latest is not None and latest[0] != sent:
                    sent, jpeg = latest
                    head = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                    yield head.encode() + b"\r\n\r\n" + jpeg + b"\r\n"
                await asyncio.sleep(MJPEG_CHECK_S)

        media_type = f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}"
        return StreamingResponse(parts(), media_type=media_type, headers={"Cache-Control": "no-cache"})

    @app.get("/api/faces/{face_id}", tags=["admin"])
    def face(face_id: int, _: Admin) -> charts.FaceOut:
        """Everything the store holds on one face ID: its profile and every visit (admin only)."""
        with store() as s:
            return charts.face_out(s, face_id)

    @app.delete("/api/faces/{face_id}", tags=["admin"])
    def erase(face_id: int, _: Admin) -> Erased:
        """Forget one face ID everywhere, as face_erase does: gallery descriptors (through the running
        identity node when it answers, else in the file), events, visits, crops, annotated frames.
        409 when the gallery is held and no identity node answered, or the node refused: then
        nothing is erased."""
        kind = DESCRIPTOR_BACKENDS[settings.descriptor_backend].name
        try:
            done = erase_face(
                face_id,
                settings.gallery,
                settings.database,
                settings.crops_dir,
                kind,
                annotated_dir=settings.annotated_dir,
                service=settings.erase_service,
            )
        except (GalleryInUseError, ErasureRefused) as err:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{err}; nothing was erased") from None
        return Erased(
            face_id=face_id,
            descriptors=done.descriptors,
            events=done.events,
            crops=done.crops,
            frames=done.frames,
        )

    return app
