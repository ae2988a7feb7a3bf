"""One camera's signage screen without ROS: each frame's faces in, the offer to show out when it changes.

The signage node publishes what this returns; a web page (the dashboard) can run the same class on
the same frames. The person in front (:func:`~signage_node.selection.person_in_front`) gets the
first matching rule (:func:`~signage_node.offers.choose_offer`) at the frame's local time of day,
and the :class:`~signage_node.selection.Debouncer` decides whether the screen changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from face_common.faces import FrameFaces
from face_common.settings import setting
from face_sink.schema import DEFAULT_SQLITE_PATH
from face_sink.visits import DEFAULT_VISIT_GAP_S

from signage_node.offers import Person, Rule, choose_offer
from signage_node.selection import NS_PER_S, Debouncer, person_in_front


@dataclass(frozen=True)
class SignageSettings:
    """Where the rules and visits come from, how long an offer stays, whose clock the rules read."""

    offers_file: str = setting(
        "config/offers.example.yaml",
        "Offer rules, YAML (format in config/offers.example.yaml); checked at start",
    )
    database: str = setting(
        str(DEFAULT_SQLITE_PATH),
        "Event store whose visits table gives loyalty, read only: SQLite file, sqlite:///path or "
        "mysql://user@host:port/db ($FACE_DB_PASSWORD); empty: no loyalty, loyalty rules never match",
    )
    visit_gap_s: float = setting(
        DEFAULT_VISIT_GAP_S,
        "The sink's visit_gap_s: a face's visits on all cameras closer than this are one store visit",
        0.0,
        86_400.0,
    )
    visits_refresh_s: float = setting(
        5.0, "Seconds between reads of the visits table (it has no per-face query)", 0.5, 3600.0
    )
    min_display_s: float = setting(
        8.0,
        "An offer stays at least this many seconds of capture time, unless nobody is in front",
        0.0,
        3600.0,
    )
    clear_after_s: float = setting(
        3.0, "The screen clears once nobody was in front for this many seconds of capture time", 0.0, 3600.0
    )
    timezone: str = setting(
        "", "IANA time zone of the rules' time windows (e.g. Europe/Berlin); empty: the machine's"
    )


def time_zone(name: str) -> tzinfo | None:
    """The zone a ``timezone`` setting names; None (the machine's local zone) for an empty one."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone={name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None


def local_time(stamp_ns: int, zone: tzinfo | None) -> time:
    """Time of day of a capture stamp in ``zone`` (None: the machine's local zone)."""
    return datetime.fromtimestamp(stamp_ns / NS_PER_S, zone).time()


@dataclass(frozen=True)
class Shown:
    """A change of the screen: the rule chosen (None: cleared, nobody in front) and for which face."""

    stamp_ns: int
    camera_id: str
    face_id: int | None
    rule: Rule | None

    def as_json(self) -> str:
        rule, offer = self.rule, self.rule.offer if self.rule else None
        return json.dumps(
            {
                "stamp_ns": self.stamp_ns,
                "camera_id": self.camera_id,
                "face_id": self.face_id,
                "rule": rule.name if rule else None,
                "offer": offer.as_dict() if offer else None,
            }
        )


class SignageScreen:
    """One camera's screen. ``earlier_visits(face_id, stamp_ns)`` is the loyalty lookup
    (:meth:`~signage_node.loyalty.VisitCounts.earlier_visits`)."""

    def __init__(
        self,
        rules: Sequence[Rule],
        debouncer: Debouncer[Rule],
        earlier_visits: Callable[[int, int], int | None],
        zone: tzinfo | None,
    ) -> None:
        self._rules = rules
        self._debouncer = debouncer
        self._earlier_visits = earlier_visits
        self._zone = zone

    def update(self, frame_faces: FrameFaces) -> Shown | None:
        """What the screen shows from this frame on, or None while it stays as it is."""
        stamp_ns = frame_faces.frame.stamp_ns
        face = person_in_front(frame_faces.faces)
        rule = None
        if face is not None:
            person = Person(face.age, face.gender, self._earlier_visits(face.face_id, stamp_ns))
            rule = choose_offer(self._rules, person, local_time(stamp_ns, self._zone))
        if not self._debouncer.update(stamp_ns, rule):
            return None
        return Shown(stamp_ns, frame_faces.frame.camera_id, face.face_id if rule else None, rule)
