"""One background thread watches the event store for the live page and the signage screens.

Every ``poll_s`` it counts the events (one cheap query): a change bumps :attr:`StoreWatcher.version`,
which the live streams push to the pages, which then re-read their charts. Only then does it read
the new rows, those stamped from ``lookback_s`` before the newest seen (a camera whose rows land a
little late is not missed; keys already seen are skipped), and feeds each signage screen its
camera's frames in stamp order.

The signage screens run ``signage_node.screen.SignageScreen`` on those rows rather than listening to
the signage node's ROS ``offer`` topic: the dashboard then needs no ROS, works wherever the store is
(a Kafka → MySQL deployment included), and a test drives it by writing events. The store keeps only
frames with faces, so "nobody in front" is a frame the watcher makes up once a camera has written
nothing for ``clear_after_s``, stamped that long after its last frame.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from face_common.faces import Face, FaceEvent, FrameFaces, FrameRef
from face_sink.schema import EventStore
from signage_node.loyalty import VisitCounts
from signage_node.offers import Rule
from signage_node.screen import Shown, SignageScreen, time_zone
from signage_node.selection import NS_PER_S, Debouncer

from face_dashboard.settings import DashboardSettings

LOG = logging.getLogger("face_dashboard")
EventKey = tuple[str, int, int]


def frames_of(events: list[FaceEvent]) -> list[FrameFaces]:
    """Rows regrouped into the frames the sink wrote them from, in stamp order."""
    frames: dict[tuple[int, str], list[Face]] = defaultdict(list)
    for e in events:
        face = Face(e.face_index, e.box, math.nan, face_id=e.face_id, age=e.age, gender=e.gender)
        frames[(e.stamp_ns, e.camera_id)].append(face)
    return [FrameFaces(FrameRef(camera, stamp), faces) for (stamp, camera), faces in sorted(frames.items())]


@dataclass
class SignageFeed:
    """One camera's screen and what it shows; ``version`` rises with every change."""

    screen: SignageScreen
    shown: Shown | None = None
    version: int = 0
    last_stamp_ns: int | None = None
    last_wall_s: float = 0.0

    def feed(self, frame_faces: FrameFaces, wall_s: float) -> None:
        shown = self.screen.update(frame_faces)
        if frame_faces.faces:
            self.last_stamp_ns, self.last_wall_s = frame_faces.frame.stamp_ns, wall_s
        if shown is not None:
            self.shown = shown
            self.version += 1


class StoreWatcher:
    """The polling thread; :meth:`signage` makes a camera's screen on its page's first visit."""

    def __init__(
        self, settings: DashboardSettings, open_store: Callable[[], EventStore], rules: tuple[Rule, ...]
    ) -> None:
        self._settings = settings
        self._open_store = open_store
        self._rules = rules
        self._zone = time_zone(settings.timezone)
        self._visits = VisitCounts(settings.visit_gap_s)
        self._visits_read_s = -math.inf
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-watcher", daemon=True)
        self._feeds: dict[str, SignageFeed] = {}
        self._seen: dict[EventKey, int] = {}
        self._count: int | None = None
        self._newest_ns = time.time_ns()  # only rows from now on go to the screens
        self.version = 0
        self.error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def signage(self, camera_id: str) -> SignageFeed:
        with self._lock:
            if camera_id not in self._feeds:
                debouncer: Debouncer[Rule] = Debouncer(
                    self._settings.min_display_s, self._settings.clear_after_s
                )
                screen = SignageScreen(self._rules, debouncer, self._visits.earlier_visits, self._zone)
                self._feeds[camera_id] = SignageFeed(screen)
            return self._feeds[camera_id]

    def _run(self) -> None:
        store: EventStore | None = None
        while not self._stop.is_set():
            try:
                if store is None:
                    store = self._open_store()
                self.poll(store, time.monotonic())
                self.error = None
            except Exception as err:  # a server down or a locked file: try again next period
                if self.error is None:
                    LOG.warning("event store not read: %s", err)
                self.error = str(err)
                if store is not None:
                    store.close()
                    store = None
            self._stop.wait(self._settings.poll_s)
        if store is not None:
            store.close()

    def poll(self, store: EventStore, wall_s: float) -> None:
        """One check: count, and on a change read the new rows and feed the screens; idle screens clear."""
        with self._lock:
            feeds = dict(self._feeds)
        if feeds and wall_s - self._visits_read_s >= self._settings.visits_refresh_s:
            self._visits.load(store.read_visits())
            self._visits_read_s = wall_s
        count = store.count_events()
        if count != self._count:
            self._count = count
            self.version += 1
            self._feed_new_rows(store, feeds, wall_s)
        for feed in feeds.values():
            idle_s = wall_s - feed.last_wall_s
            if (
                feed.shown is not None
                and feed.shown.rule is not None  # cleared already: nothing to clear
                and feed.last_stamp_ns is not None
                and idle_s >= self._settings.clear_after_s
            ):
                nobody = FrameFaces(
                    FrameRef(feed.shown.camera_id, feed.last_stamp_ns + round(idle_s * NS_PER_S))
                )
                feed.feed(nobody, wall_s)

    def _feed_new_rows(self, store: EventStore, feeds: dict[str, SignageFeed], wall_s: float) -> None:
        since_ns = self._newest_ns - round(self._settings.lookback_s * NS_PER_S)
        fresh = []
        for event in store.read_events(since_ns=since_ns):
            key = (event.camera_id, event.stamp_ns, event.face_index)
            if key not in self._seen:
                self._seen[key] = event.stamp_ns
                fresh.append(event)
        if fresh:
            self._newest_ns = max(self._newest_ns, max(e.stamp_ns for e in fresh))
        self._seen = {k: s for k, s in self._seen.items() if s >= since_ns}
        for frame_faces in frames_of(fresh):
            feed = feeds.get(frame_faces.frame.camera_id)
            if feed is not None:
                feed.feed(frame_faces, wall_s)
