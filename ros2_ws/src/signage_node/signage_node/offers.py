"""Offer rules for the signage screen: which offer the person in front gets (no ROS, no I/O but loading).

A shop writes its rules in a YAML file (``config/offers.example.yaml`` explains the format); the
first rule whose conditions all hold wins, and the last rule must have none, so everyone gets an
answer (its ``offer`` may be ``null``: explicitly nothing). Conditions: age (a range in completed
years, or ``face_sink.stats`` age buckets, so the screen and the store report speak of the same
groups), gender, loyalty (earlier visits of the face ID) and a local time-of-day window, which may
run over midnight. An attribute not known yet (no age or gender estimated, no face ID) only
satisfies rules that do not ask about it, so nobody gets a targeted offer on a guess.

The file is checked completely on load: a wrong file stops the node at start with one message
naming the rule (number and name) and the key, not a surprise on the screen later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from face_common.faces import GENDERS
from face_sink.stats import AGE_BUCKET_LABELS, age_bucket

ANY_GENDER = "any"
_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
WINDOW = re.compile(rf"\s*{_CLOCK}\s*-\s*{_CLOCK}\s*")
"""``HH:MM-HH:MM`` on the 24-hour clock."""
MAX_AGE = 150
MAX_VISITS = 1_000_000
DOCUMENT_KEYS = ("rules",)
RULE_KEYS = ("name", "offer", "when")
OFFER_KEYS = ("text", "image", "id")
CONDITION_KEYS = (
    "age_min",
    "age_max",
    "age_buckets",
    "gender",
    "first_visit",
    "visits_min",
    "visits_max",
    "time",
)


class OffersError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the key."""


@dataclass(frozen=True)
class Offer:
    """What the screen shows: a text, and optionally an image path and an id the screen knows."""

    text: str
    image: str = ""
    id: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "image": self.image or None, "id": self.id or None}


@dataclass(frozen=True)
class TimeWindow:
    """``[start, end)`` in local time of day; ``start > end`` runs over midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Person:
    """What the rules may ask about the person in front; NaN, ``""`` and None are "not known yet"."""

    age: float = math.nan
    gender: str = ""
    earlier_visits: int | None = None
    """Visits of this face ID before the current one; None without a face ID or event store."""


@dataclass(frozen=True)
class Conditions:
    """All must hold; an absent one (None, empty, ``any``) holds for everyone."""

    age_min: int | None = None
    age_max: int | None = None
    age_buckets: tuple[str, ...] = ()
    gender: str = ANY_GENDER
    visits_min: int | None = None
    visits_max: int | None = None
    time: TimeWindow | None = None

    def matches(self, person: Person, local_time: time) -> bool:
        return (
            self._age_matches(person.age)
            and (self.gender == ANY_GENDER or person.gender == self.gender)
            and self._visits_match(person.earlier_visits)
            and (self.time is None or self.time.contains(local_time))
        )

    def _age_matches(self, age: float) -> bool:
        if self.age_min is None and self.age_max is None and not self.age_buckets:
            return True
        if math.isnan(age):
            return False
        if self.age_buckets:
            return age_bucket(age) in self.age_buckets
        years = math.floor(age)  # completed years, as age_bucket counts them
        return (self.age_min is None or years >= self.age_min) and (
            self.age_max is None or years <= self.age_max
        )

    def _visits_match(self, visits: int | None) -> bool:
        if self.visits_min is None and self.visits_max is None:
            return True
        if visits is None:
            return False
        return (self.visits_min is None or visits >= self.visits_min) and (
            self.visits_max is None or visits <= self.visits_max
        )


@dataclass(frozen=True)
class Rule:
    name: str
    offer: Offer | None
    """None: explicitly no offer for the people this rule catches."""
    when: Conditions = Conditions()


def choose_offer(rules: Sequence[Rule], person: Person, local_time: time) -> Rule:
    """The first rule whose conditions hold for ``person`` at ``local_time``.

    ``rules`` as :func:`load_rules` returns them: the last one holds for everyone."""
    for rule in rules:
        if rule.when.matches(person, local_time):
            return rule
    raise ValueError("no rule matches: the rules have no default (a last rule without conditions)")


def load_rules(path: str | Path) -> tuple[Rule, ...]:
    """The rules of a YAML file, checked (:func:`parse_rules`); OffersError for any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise OffersError(f"cannot read offers file {path}: {err.strerror or err}") from err
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise OffersError(f"{path}: not valid YAML{where}: {problem}") from err
    return parse_rules(document, str(path))


def parse_rules(document: Any, source: str = "offers") -> tuple[Rule, ...]:
    """Rules from a loaded YAML document ``{rules: [...]}``; OffersError naming rule and key."""
    if not isinstance(document, dict):
        raise OffersError(f"{source}: expected a mapping with the key 'rules', got {_kind(document)}")
    unknown = sorted(set(map(str, document)) - set(DOCUMENT_KEYS))
    if unknown:
        raise OffersError(f"{source}: unknown key {unknown[0]!r} (expected only 'rules')")
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        raise OffersError(f"{source}: key 'rules': expected a non-empty list of rules, got {_kind(entries)}")
    rules = tuple(_RuleReader(source, number, entry).rule() for number, entry in enumerate(entries, 1))
    _check_order(source, rules)
    return rules


def _check_order(source: str, rules: tuple[Rule, ...]) -> None:
    """Names unique (the log names rules), exactly one default and it last (no rule unreachable)."""
    seen: dict[str, int] = {}
    for number, rule in enumerate(rules, 1):
        if rule.name in seen:
            raise OffersError(
                f"{source}: rule {number} ({rule.name!r}), key 'name': "
                f"the same name as rule {seen[rule.name]}"
            )
        seen[rule.name] = number
    for number, rule in enumerate(rules[:-1], 1):
        if rule.when == Conditions():
            raise OffersError(
                f"{source}: rule {number} ({rule.name!r}), key 'when': a rule without conditions matches "
                f"everyone, so the rules after it would never be chosen; only the last rule may have none"
            )
    last = rules[-1]
    if last.when != Conditions():
        raise OffersError(
            f"{source}: rule {len(rules)} ({last.name!r}), key 'when': the last rule must have no "
            "conditions, as the default for everyone the others miss (offer: null shows nothing)"
        )


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


class _RuleReader:
    """Reads one rule entry; every error names the source, the rule's number and name, and the key."""

    def __init__(self, source: str, number: int, entry: Any) -> None:
        self.source = source
        self.entry = entry
        name = entry.get("name") if isinstance(entry, dict) else None
        self.label = f"rule {number} ({name!r})" if isinstance(name, str) and name else f"rule {number}"

    def error(self, key: str, problem: str) -> OffersError:
        where = f"{self.label}, key {key!r}" if key else self.label
        return OffersError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, key: str, allowed: Sequence[str]) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a mapping, got {_kind(value)}")
        for name in value:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.error(where, f"unknown key (known: {', '.join(allowed)})")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            hint = "" if isinstance(value, str) else " (quote it)"
            raise self.error(key, f"expected non-empty text, got {_kind(value)}{hint}")
        return value

    def whole(self, value: Any, key: str, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise self.error(key, f"expected a whole number from 0 to {high}, got {_kind(value)}")
        return value

    def rule(self) -> Rule:
        if not isinstance(self.entry, dict):
            raise self.error("", f"expected a mapping with name, offer and when, got {_kind(self.entry)}")
        entry = self.mapping(self.entry, "", RULE_KEYS)
        if "name" not in entry:
            raise self.error("name", "missing")
        if "offer" not in entry:
            raise self.error("offer", "missing (offer: null explicitly shows nothing)")
        name = self.text(entry["name"], "name")
        offer = None if entry["offer"] is None else self.offer(entry["offer"])
        when = self.conditions(entry["when"]) if entry.get("when") is not None else Conditions()
        return Rule(name, offer, when)

    def offer(self, value: Any) -> Offer:
        fields = self.mapping(value, "offer", OFFER_KEYS)
        if "text" not in fields:
            raise self.error("offer.text", "missing")
        return Offer(
            text=self.text(fields["text"], "offer.text"),
            image=self.text(fields["image"], "offer.image") if "image" in fields else "",
            id=self.text(fields["id"], "offer.id") if "id" in fields else "",
        )

    def conditions(self, value: Any) -> Conditions:
        when = self.mapping(value, "when", CONDITION_KEYS)
        age_min, age_max = (
            self.whole(when[key], f"when.{key}", MAX_AGE) if key in when else None
            for key in ("age_min", "age_max")
        )
        if age_min is not None and age_max is not None and age_min > age_max:
            raise self.error("when.age_min", f"{age_min} is above age_max {age_max}")
        buckets = self.age_buckets(when["age_buckets"]) if "age_buckets" in when else ()
        if buckets and (age_min is not None or age_max is not None):
            raise self.error("when.age_buckets", "give age_buckets or age_min/age_max, not both")
        return Conditions(
            age_min=age_min,
            age_max=age_max,
            age_buckets=buckets,
            gender=self.gender(when["gender"]) if "gender" in when else ANY_GENDER,
            **self.loyalty(when),
            time=self.window(when["time"]) if "time" in when else None,
        )

    def age_buckets(self, value: Any) -> tuple[str, ...]:
        key = "when.age_buckets"
        if not isinstance(value, list) or not value:
            raise self.error(key, f"expected a non-empty list of age buckets, got {_kind(value)}")
        for bucket in value:
            if bucket not in AGE_BUCKET_LABELS:
                known = ", ".join(AGE_BUCKET_LABELS)
                raise self.error(key, f"unknown age bucket {bucket!r} (known: {known})")
        return tuple(value)

    def gender(self, value: Any) -> str:
        if value not in (*GENDERS, ANY_GENDER):
            known = ", ".join((*GENDERS, ANY_GENDER))
            raise self.error("when.gender", f"expected one of {known}, got {_kind(value)}")
        return value

    def loyalty(self, when: dict) -> dict[str, int | None]:
        """``first_visit: true`` is no earlier visit, ``false`` at least one; or ``visits_min``/``max``."""
        visits_min, visits_max = (
            self.whole(when[key], f"when.{key}", MAX_VISITS) if key in when else None
            for key in ("visits_min", "visits_max")
        )
        if visits_min is not None and visits_max is not None and visits_min > visits_max:
            raise self.error("when.visits_min", f"{visits_min} is above visits_max {visits_max}")
        if "first_visit" in when:
            first = when["first_visit"]
            if not isinstance(first, bool):
                raise self.error("when.first_visit", f"expected true or false, got {_kind(first)}")
            if visits_min is not None or visits_max is not None:
                raise self.error("when.first_visit", "give first_visit or visits_min/visits_max, not both")
            return {"visits_min": None, "visits_max": 0} if first else {"visits_min": 1, "visits_max": None}
        return {"visits_min": visits_min, "visits_max": visits_max}

    def window(self, value: Any) -> TimeWindow:
        found = WINDOW.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            hint = "" if isinstance(value, str) else " (quote it: YAML reads 11:30 as a number)"
            raise self.error(
                "when.time",
                f"expected 'HH:MM-HH:MM', local time ('22:00-02:00' runs over midnight), got {_kind(value)}"
                + hint,
            )
        hour, minute, end_hour, end_minute = map(int, found.groups())
        start, end = time(hour, minute), time(end_hour, end_minute)
        if start == end:
            raise self.error("when.time", f"{value!r} is empty; leave time out for all day")
        return TimeWindow(start, end)
