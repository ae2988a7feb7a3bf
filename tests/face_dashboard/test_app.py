"""The JSON API on a real SQLite store day: access (401/403), every chart's numbers against SQL and
against face_report on the same store, heat map PNGs byte for byte, OpenAPI, erasure."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import numpy as np
import pytest
from face_analytics.report import main as face_report
from face_dashboard.app import create_app
from fastapi.testclient import TestClient
from identity_node.descriptor import DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery
from store_day import ADMIN_TOKEN, DAY, END, STAFF_TOKEN, START, S

PERIOD = {"start": START, "end": END}
DAY_NS = (DAY - 86_400 * S, DAY + 86_400 * S)


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings), headers={"Authorization": f"Bearer {STAFF_TOKEN}"})


@pytest.fixture
def admin_client(settings):
    client = TestClient(create_app(settings))
    client.auth = ("manager", ADMIN_TOKEN)  # HTTP Basic, as a browser sends it
    return client


def test_no_or_a_wrong_token_is_401_with_the_browser_challenge(settings):
    anonymous = TestClient(create_app(settings))
    for path in ("/", "/api/summary", "/api/heatmap/cam1.png", "/static/plotly.min.js", "/signage/cam1"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic")
    assert (
        anonymous.get("/api/summary", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code
        == 401
    )
    assert anonymous.get("/api/summary", auth=("x", "wrong")).status_code == 401


def test_staff_sees_charts_but_not_per_id_data(client):
    assert client.get("/api/me").json() == {"role": "staff"}
    assert client.get("/").status_code == 200
    assert client.get("/static/plotly.min.js").headers["content-type"].startswith("text/javascript")
    for method, path in (("GET", "/faces/1"), ("GET", "/api/faces/1"), ("DELETE", "/api/faces/1")):
        assert client.request(method, path).status_code == 403, path


def report_of_the_day(store_day: Path, tmp_path: Path) -> None:
    """``face_report`` on the store day's period, its plots under ``tmp_path/report``."""
    args = ["--database", str(store_day), "--start", START, "--end", END]
    assert face_report([*args, "--plots-dir", str(tmp_path / "report")]) == 0


def test_summary_is_face_reports_and_matches_sql(client, sql, store_day, tmp_path, capsys):
    s = client.get("/api/summary", params=PERIOD).json()
    ((events, customers),) = sql(
        "SELECT COUNT(*), COUNT(DISTINCT CASE WHEN face_id >= 0 THEN face_id END) FROM face_events "
        "WHERE stamp_ns >= ? AND stamp_ns < ?",
        *DAY_NS,
    )
    assert (s["events"], s["customers"], s["unidentified_events"]) == (events, customers, 2)
    report_of_the_day(store_day, tmp_path)
    printed = capsys.readouterr().out
    assert f"customers (distinct face IDs): {s['customers']}" in printed
    assert f"new customers: {s['new_customers']}, repeat customers: {s['repeat_customers']}" in printed
    buckets = ", ".join(f"{b}: {n}" for b, n in s["age_buckets"].items())
    assert f"age buckets (median per face ID): {buckets}" in printed
    assert sum(map(sum, (g.values() for g in s["gender_by_age"].values()))) == customers
    # faces 1 and 2 came the day before too, face 6 twice on the store day
    assert s["repeat_customers"] == 3
    assert s["customers_now"] == s["customers_today"] == 0  # the data is from 2024


def test_age_by_face_is_every_estimate_and_its_median(client, sql):
    profiles = {p["face_id"]: p for p in client.get("/api/age_by_face", params=PERIOD).json()}
    for face_id, ages in _ages_by_face(sql).items():
        assert profiles[face_id]["ages"] == ages
        assert profiles[face_id]["median_age"] == (statistics.median(ages) if ages else None)
    assert set(profiles) == set(_ages_by_face(sql))


def _ages_by_face(sql) -> dict[int, list[float]]:
    ages: dict[int, list[float]] = {}
    for face_id, age in sql(
        "SELECT face_id, age FROM face_events WHERE face_id >= 0 AND stamp_ns >= ? AND stamp_ns < ? "
        "ORDER BY stamp_ns",
        *DAY_NS,
    ):
        ages.setdefault(face_id, [])
        if age is not None:
            ages[face_id].append(age)
    return ages


def test_dwell_per_camera_matches_the_visits_table(client, sql):
    dwell = client.get("/api/dwell", params=PERIOD).json()
    for group in dwell["by_camera"]:
        rows = sql(
            "SELECT (end_ns - start_ns) / 1e9 FROM face_visits WHERE camera_id = ? AND start_ns >= ? "
            "AND start_ns < ? ORDER BY face_id, start_ns",
            group["group"],
            *DAY_NS,
        )
        seconds = [r[0] for r in rows]
        assert group["count"] == len(seconds)
        assert sorted(group["dwell_s"]) == sorted(seconds)
        assert group["median_s"] == pytest.approx(statistics.median(seconds))
    assert sum(g["count"] for g in dwell["by_bucket"]) == sum(g["count"] for g in dwell["by_camera"])


def test_visits_per_hour_repeat_and_journeys(client):
    hours = {r["hour"]: r["visits"] for r in client.get("/api/visits_per_hour", params=PERIOD).json()}
    # store visits: cam1 > cam2 trips count once (face 1 at 09:00, face 3 at 10:00, face 8 at 16:00)
    assert hours["2024-05-03T09:00Z"] == 1 and hours["2024-05-03T10:00Z"] == 2
    assert hours["2024-05-03T16:00Z"] == 1 and hours["2024-05-02T10:00Z"] == 1
    assert sum(hours.values()) == 12
    repeat = {r["period"]: r for r in client.get("/api/repeat", params=PERIOD).json()}
    assert (repeat["2024-05-03"]["new"], repeat["2024-05-03"]["returning"]) == (7, 2)
    journeys = client.get("/api/journeys", params=PERIOD).json()
    assert {tuple(j["cameras"]): j["visits"] for j in journeys["journeys"]}[("cam1", "cam2")] == 2
    assert journeys["cameras"] == ["cam1", "cam2"] and journeys["matrix"] == [[0, 2], [1, 0]]


def test_camera_and_period_select_like_face_report(client, sql):
    s = client.get("/api/summary", params={**PERIOD, "camera": "cam2"}).json()
    ((customers,),) = sql(
        "SELECT COUNT(DISTINCT face_id) FROM face_events WHERE camera_id = 'cam2' AND face_id >= 0 "
        "AND stamp_ns >= ? AND stamp_ns < ?",
        *DAY_NS,
    )
    assert s["customers"] == customers == 5
    morning = client.get(
        "/api/summary", params={"start": "2024-05-03T09:00", "end": "2024-05-03T11:00"}
    ).json()
    assert morning["customers"] == 3
    bad = client.get("/api/summary", params={"start": "2024-05-03", "end": "2024-05-02"})
    assert bad.status_code == 422 and "is not after" in bad.text


def test_heat_map_png_is_face_reports(client, store_day, sql, tmp_path):
    report_of_the_day(store_day, tmp_path)
    for camera in ("cam1", "cam2"):
        png = client.get(f"/api/heatmap/{camera}.png", params=PERIOD)
        assert png.headers["content-type"] == "image/png"
        assert png.content == (tmp_path / "report" / f"heat_{camera}.png").read_bytes()
        ((events,),) = sql(
            "SELECT COUNT(*) FROM face_events WHERE camera_id = ? AND stamp_ns >= ? AND stamp_ns < ?",
            camera,
            *DAY_NS,
        )
        assert client.get(f"/api/heatmap/{camera}", params=PERIOD).json()["events"] == events


def test_every_chart_endpoint_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/summary",
        "/api/age_by_face",
        "/api/repeat",
        "/api/visits_per_hour",
        "/api/dwell",
        "/api/journeys",
        "/api/heatmap/{camera_id}.png",
        "/api/heatmap/{camera_id}",
        "/api/live",
        "/api/signage/{camera_id}",
        "/api/faces/{face_id}",
        "/api/cameras",
    ):
        assert path in paths, path
    assert re.search("start", str(paths["/api/summary"]["get"]["parameters"]))
    page = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    for path in ("/openapi.json", "/docs", "/static/docs/swagger-ui.css"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 401


def test_admin_sees_one_face_and_erases_it_everywhere(admin_client, sql, tmp_path):
    face = admin_client.get("/api/faces/1").json()
    assert face["profile"]["visits"] == 2 and len(face["visits"]) == 3
    crops = tmp_path / "crops" / "face_1"
    crops.mkdir(parents=True)
    (crops / "x.jpg").write_bytes(b"jpeg")
    annotated = tmp_path / "annotated"
    annotated.mkdir()
    for name in ("cam1_1714727000000000000_f1t4.jpg", "cam1_1714727000000000000_f2t5.jpg"):
        (annotated / name).write_bytes(b"jpeg")  # a frame showing face 1, one showing face 2
    erased = admin_client.delete("/api/faces/1").json()
    assert erased["crops"] == 1 and erased["frames"] == 1 and erased["events"] == 19 + 41 + 25
    assert [p.name for p in annotated.iterdir()] == ["cam1_1714727000000000000_f2t5.jpg"]
    assert sql("SELECT COUNT(*) FROM face_events WHERE face_id = 1") == [(0,)]
    assert sql("SELECT COUNT(*) FROM face_visits WHERE face_id = 1") == [(0,)]
    assert admin_client.get("/api/faces/1").json() == {"profile": None, "visits": []}


def test_erasure_while_the_identity_node_holds_the_gallery_is_409_and_erases_nothing(
    admin_client, settings, sql
):
    descriptor = np.zeros(DESCRIPTOR_SIZE, np.float32)
    descriptor[0] = 1.0
    kind = DESCRIPTOR_BACKENDS[settings.descriptor_backend].name
    with FaceGallery(settings.gallery, kind, DESCRIPTOR_SIZE) as gallery:  # as a running identity node
        gallery.match_or_enrol(descriptor)
        refused = admin_client.delete("/api/faces/1")
    assert refused.status_code == 409 and "nothing was erased" in refused.text
    assert sql("SELECT COUNT(*) FROM face_events WHERE face_id = 1") == [(85,)]


def test_offer_images_come_from_the_offers_folder_only(client, settings):
    picture = client.get("/offer-images/offers/skincare.png")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    for path in ("offers.yaml", "offers/none.png", "%2e%2e/%2e%2e/etc/passwd", "..%2Fevents.sqlite"):
        assert client.get(f"/offer-images/{path}").status_code == 404, path


def test_a_missing_store_is_503_not_a_new_file(settings, tmp_path):
    app = create_app(settings.model_copy(update={"database": str(tmp_path / "none.sqlite")}))
    response = TestClient(app).get("/api/summary", auth=("x", STAFF_TOKEN))
    assert response.status_code == 503 and "no event database" in response.text
    assert not (tmp_path / "none.sqlite").exists()
