"""The dashboard and the signage page in headless Chromium (Debian's, driven by Playwright), served by
the real ``face_dashboard`` command on a store day: every chart shows what the database holds
(checked against SQL and face_report's functions), the page follows new events without a reload,
access is enforced, and the signage page shows the offer for a given event sequence. The tests
write docs/images/dashboard.png and docs/images/signage.png."""

from __future__ import annotations

import csv
import sqlite3
import statistics
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from face_analytics.journeys import in_period, journey_counts, transition_matrix
from face_analytics.visit_stats import repeat_customers, store_visits, utc_day
from face_common.faces import Box, FaceEvent
from face_eval import scenario
from face_sink.schema import open_sqlite_store
from face_sink.stats import summarize
from playwright.sync_api import Browser, Page, sync_playwright
from store_day import ADMIN_TOKEN, DAY, END, HOUR, STAFF_TOKEN, START, S
from three_camera_day import EVENTS, VISIT_GAP_S

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PERIOD_NS = (DAY - 86_400 * S, DAY + 86_400 * S)
WAIT_MS = 20_000


@pytest.fixture
def server(serve, browser: Browser) -> Iterator[str]:
    yield serve()
    for context in browser.contexts:  # their live streams end, so the server stops at once
        context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Debian's chromium is not installed at {CHROMIUM}: scripts/test.sh installs it "
            "(or run: apt-get update && apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def open_page(browser: Browser, url: str, token: str | None, width: int = 1400, height: int = 900) -> Page:
    credentials = None if token is None else {"username": "manager", "password": token}
    context = browser.new_context(http_credentials=credentials, viewport={"width": width, "height": height})
    return context.new_page()


def dashboard(
    browser: Browser, url: str, token: str = ADMIN_TOKEN, requested: list[str] | None = None
) -> Page:
    """The dashboard on the store day's period, once drawn; ``requested`` collects every URL it loads."""
    page = open_page(browser, url, token)
    page.clock.set_fixed_time(datetime(2024, 5, 3, 18, 0, tzinfo=UTC))  # the same screenshot every run
    if requested is not None:
        page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{url}/?start={START}&end={END}")
    page.wait_for_function("Number(document.body.dataset.refreshes) >= 1", timeout=WAIT_MS)
    return page


def traces(page: Page, chart: str) -> list[dict]:
    return page.evaluate(
        "id => document.getElementById(id).data.map(t => ({name: t.name, x: t.x, y: t.y, z: t.z}))", chart
    )


def texts(page: Page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_every_chart_shows_what_the_database_holds(browser, server, store_day, sql):
    page = dashboard(browser, server)
    store = open_sqlite_store(store_day)
    events = store.read_events(since_ns=PERIOD_NS[0], until_ns=PERIOD_NS[1])
    visits = store.read_visits()
    store.close()
    summary = summarize(events, 1800.0)
    trips = in_period(store_visits(visits, 1800.0), *PERIOD_NS)
    ((rows, customers),) = sql(
        "SELECT COUNT(*), COUNT(DISTINCT CASE WHEN face_id >= 0 THEN face_id END) FROM face_events "
        "WHERE stamp_ns >= ? AND stamp_ns < ?",
        *PERIOD_NS,
    )
    tile = {
        name: page.inner_text(f"#tile-{name}") for name in ("customers", "new", "repeat", "events", "now")
    }
    assert tile == {
        "customers": str(customers),
        "new": str(summary.new_customers),
        "repeat": str(summary.repeat_customers),
        "events": str(rows),
        "now": "0",
    }

    by_gender = {t["name"]: t for t in traces(page, "chart-age-gender")}
    assert sum(sum(t["y"]) for t in by_gender.values()) == customers
    for gender, trace in by_gender.items():
        assert trace["y"] == [summary.gender_by_age[bucket][gender] for bucket in trace["x"]]

    (hours,) = traces(page, "chart-hours")
    assert sum(hours["y"]) == len(trips) == 12
    assert dict(zip(hours["x"], hours["y"], strict=True))["2024-05-03T10:00Z"] == 2

    new, returning = traces(page, "chart-repeat")
    expected = repeat_customers(trips, utc_day)
    assert (new["x"], new["y"], returning["y"]) == (
        [r.period for r in expected],
        [r.new for r in expected],
        [r.returning for r in expected],
    )

    for trace in traces(page, "chart-dwell"):
        seconds = sql(
            "SELECT (end_ns - start_ns) / 1e9 FROM face_visits WHERE camera_id = ? AND start_ns >= ? "
            "AND start_ns < ?",
            trace["name"],
            *PERIOD_NS,
        )
        assert sorted(trace["y"]) == sorted(s for (s,) in seconds)

    estimates, medians = traces(page, "chart-age-face")
    ages: dict[int, list[float]] = {}
    for face_id, age in sql(
        "SELECT face_id, age FROM face_events WHERE face_id >= 0 AND age IS NOT NULL AND stamp_ns >= ? "
        "AND stamp_ns < ?",
        *PERIOD_NS,
    ):
        ages.setdefault(face_id, []).append(age)
    assert medians["x"] == [str(f) for f in sorted(ages)]
    assert medians["y"] == [statistics.median(ages[f]) for f in sorted(ages)]
    assert len(estimates["y"]) == sum(map(len, ages.values()))

    for camera, count in sql(
        "SELECT camera_id, COUNT(*) FROM face_events WHERE stamp_ns >= ? AND stamp_ns < ? GROUP BY camera_id",
        *PERIOD_NS,
    ):
        caption = page.locator(f"figcaption[data-camera='{camera}']")
        assert caption.get_attribute("data-events") == str(count)
    assert page.evaluate(
        "[...document.querySelectorAll('#heatmaps img')].every(i => i.naturalWidth === 1280)"
    )

    journeys = [row.split("\t") for row in texts(page, "#table-journeys tbody tr")]
    assert journeys == [[" → ".join(path), str(n)] for path, n in journey_counts(trips)]
    (moves,) = traces(page, "chart-transitions")
    matrix = transition_matrix(trips)
    assert (moves["x"], moves["z"]) == (list(matrix.cameras), [list(r) for r in matrix.counts])

    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "dashboard.png"), full_page=True)


def test_the_dashboard_shows_a_store_day_run(browser, serve, three_camera_day):
    """The graph's cores on the three-camera store day (tests/three_camera_day.py): the page shows
    the customers the event store holds and the journeys the scenario planned."""
    database = three_camera_day / EVENTS
    url = serve(database=str(database), visit_gap_s=VISIT_GAP_S)
    page = open_page(browser, url, STAFF_TOKEN)
    page.goto(f"{url}/?start=2024-05-01T00:00&end=2024-05-02T00:00")
    page.wait_for_function("Number(document.body.dataset.refreshes) >= 1", timeout=WAIT_MS)
    with (three_camera_day / scenario.JOURNEYS_FILE).open() as f:
        planned = list(csv.DictReader(f))
    with sqlite3.connect(database) as connection:
        ((customers,),) = connection.execute(
            "SELECT COUNT(DISTINCT face_id) FROM face_events WHERE face_id >= 0"
        ).fetchall()
    assert page.inner_text("#tile-customers") == str(customers) == str(len({r["person"] for r in planned}))
    shown = dict(row.split("\t") for row in texts(page, "#table-journeys tbody tr"))
    truth = Counter(row["cameras"].replace(">", " → ") for row in planned)
    assert {path: int(n) for path, n in shown.items()} == dict(truth)


def test_the_page_follows_new_events_without_a_reload(browser, server, store_day):
    page = dashboard(browser, server, STAFF_TOKEN)
    before = int(page.inner_text("#tile-customers"))
    page.evaluate("window.notReloaded = true")
    store = open_sqlite_store(store_day)
    now = time.time_ns()
    store.write_events(
        [
            FaceEvent("cam2", DAY + 13 * HOUR, 0, 50, 38.0, "female", Box(400, 200, 90, 110), 0.3, True),
            FaceEvent("cam1", now, 0, 51, 27.0, "male", Box(300, 200, 90, 110), 0.3, True),
        ]
    )
    store.close()
    page.wait_for_function(
        f"document.getElementById('tile-customers').textContent === '{before + 1}'", timeout=WAIT_MS
    )
    page.wait_for_function("document.getElementById('tile-now').textContent === '1'", timeout=WAIT_MS)
    assert page.inner_text("#tile-today") == "1"
    assert page.evaluate("window.notReloaded") is True
    assert "live" in page.inner_text("#live")


def test_no_token_is_401_and_staff_cannot_see_per_id_pages(browser, server, sql):
    for path in ("/", "/api/summary", "/faces/1"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server}{path}", timeout=5)
        assert refused.value.code == 401
    anonymous = open_page(browser, server, None)  # headless: nobody to type into the password prompt
    assert anonymous.request.get(f"{server}/").status == 401
    staff = dashboard(browser, server, STAFF_TOKEN)
    assert staff.inner_text("#role") == "signed in as staff"
    assert staff.locator("#face-links a").count() == 0
    assert staff.goto(f"{server}/faces/1").status == 403

    admin = dashboard(browser, server, ADMIN_TOKEN)
    assert admin.locator("#face-links a").count() == len(
        sql("SELECT DISTINCT face_id FROM face_events WHERE face_id >= 0 AND age IS NOT NULL")
    )
    admin.click("#face-links a >> text='1'")
    admin.wait_for_selector("#visits tbody tr")
    assert (
        admin.locator("#visits tbody tr").count()
        == sql("SELECT COUNT(*) FROM face_visits WHERE face_id = 1")[0][0]
    )
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.click("#erase")
    admin.wait_for_function(
        "document.getElementById('result').textContent.startsWith('Erased')", timeout=WAIT_MS
    )
    assert sql("SELECT COUNT(*) FROM face_events WHERE face_id = 1") == [(0,)]
    assert admin.locator("#visits tbody tr").count() == 0


def test_the_signage_page_shows_the_offer_for_the_person_in_front(browser, server, store_day):
    page = open_page(browser, server, STAFF_TOKEN, 1280, 720)
    page.goto(f"{server}/signage/cam1")
    page.wait_for_function("document.getElementById('status').textContent === 'cam1'", timeout=WAIT_MS)
    assert page.is_visible("#idle") and not page.is_visible("#offer")
    store = open_sqlite_store(store_day)
    now = time.time_ns()

    def frame(stamp_ns: int, *faces: tuple[int, float, str, int]) -> list[FaceEvent]:
        return [
            FaceEvent(
                "cam1", stamp_ns, i, face_id, age, gender, Box(100 + 300 * i, 100, size, size), 0.3, False
            )
            for i, (face_id, age, gender, size) in enumerate(faces)
        ]

    # a woman of 41 in front (largest face), a man of 30 behind her; the other camera changes nothing
    store.write_events(frame(now, (60, 41.0, "female", 180), (61, 30.0, "male", 90)))
    store.write_events([FaceEvent("cam2", now, 0, 62, 15.0, "male", Box(0, 0, 300, 300), 0.3, False)])
    page.wait_for_function("document.body.dataset.offerId === 'skincare'", timeout=WAIT_MS)
    assert page.inner_text("#offer-text") == "New skincare range: try it at the counter"
    page.wait_for_function("document.querySelector('#offer img')?.naturalWidth === 480", timeout=WAIT_MS)
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "signage.png"))
    # a minor steps in front: no offer, the idle screen
    store.write_events(frame(now + S, (63, 15.0, "male", 250)))
    page.wait_for_function("document.body.dataset.rule === 'minors'", timeout=WAIT_MS)
    assert page.is_visible("#idle") and not page.is_visible("#offer")
    # then a man of 60: the default offer
    store.write_events(frame(now + 2 * S, (64, 60.0, "male", 250)))
    page.wait_for_function("document.body.dataset.offerId === 'weekly'", timeout=WAIT_MS)
    store.close()
