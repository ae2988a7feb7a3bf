"""Offer rules: the first matching rule wins, each kind of condition, unknown attributes, and a
file that is wrong in any way is refused with a message naming the rule and the key."""

from __future__ import annotations

import math
from datetime import time
from pathlib import Path

import pytest
import yaml
from signage_node.offers import (
    Conditions,
    Offer,
    OffersError,
    Person,
    Rule,
    TimeWindow,
    choose_offer,
    load_rules,
    parse_rules,
)

REPO = Path(__file__).resolve().parents[2]
RULES = parse_rules(
    yaml.safe_load(
        """
rules:
  - name: minors
    offer: null
    when: {age_max: 17}
  - name: first
    offer: {text: Welcome, image: offers/welcome.png, id: w10}
    when: {first_visit: true}
  - name: regular
    offer: {text: Coffee}
    when: {visits_min: 2, visits_max: 4}
  - name: loyal
    offer: {text: Gift}
    when: {visits_min: 5}
  - name: night
    offer: {text: Night}
    when: {time: "22:00-02:00"}
  - name: lunch-young
    offer: {text: Lunch}
    when: {age_buckets: [18-24, 25-34], time: "11:30-14:00"}
  - name: women-35-plus
    offer: {text: Skincare}
    when: {gender: female, age_min: 35, age_max: 64}
  - name: default
    offer: {text: Weekly}
"""
    )
)
NOON = time(12, 0)


@pytest.mark.parametrize(
    ("person", "at", "expected"),
    [
        (Person(12.0, "male", 0), NOON, "minors"),  # first match wins over first visit
        (Person(17.9, "female", 3), NOON, "minors"),  # completed years: still 17
        (Person(18.0, "male", 0), NOON, "first"),
        (Person(18.0, "male", 1), time(10, 0), "default"),  # one visit: not first, not regular
        (Person(40.0, "female", 1), time(10, 0), "women-35-plus"),
        (Person(64.9, "female", 1), time(10, 0), "women-35-plus"),
        (Person(65.0, "female", 1), time(10, 0), "default"),  # above age_max
        (Person(40.0, "male", 1), time(10, 0), "default"),  # gender
        (Person(40.0, "female", 2), time(10, 0), "regular"),
        (Person(40.0, "female", 4), time(10, 0), "regular"),
        (Person(40.0, "female", 5), time(10, 0), "loyal"),
        (Person(30.0, "male", 1), time(22, 0), "night"),
        (Person(30.0, "male", 1), time(23, 59), "night"),
        (Person(30.0, "male", 1), time(0, 0), "night"),  # over midnight
        (Person(30.0, "male", 1), time(1, 59), "night"),
        (Person(30.0, "male", 1), time(2, 0), "default"),  # the end is not included
        (Person(30.0, "male", 1), time(21, 59), "default"),
        (Person(24.5, "male", 1), time(11, 30), "lunch-young"),
        (Person(34.9, "female", 1), time(13, 59), "lunch-young"),
        (Person(24.5, "male", 1), time(14, 0), "default"),
        (Person(35.0, "male", 1), NOON, "default"),  # bucket 35-44
        # Not known yet: only rules that do not ask match.
        (Person(math.nan, "female", 1), NOON, "default"),  # neither minors nor women-35-plus
        (Person(math.nan, "", None), time(23, 0), "night"),  # not "first": visits unknown
        (Person(40.0, "", 1), time(10, 0), "default"),  # gender unknown
        (Person(40.0, "female", None), time(10, 0), "women-35-plus"),
        (Person(12.0, "", None), NOON, "minors"),
    ],
)
def test_the_first_matching_rule_wins(person: Person, at: time, expected: str) -> None:
    assert choose_offer(RULES, person, at).name == expected


def test_rules_read_as_written() -> None:
    assert RULES[0] == Rule("minors", None, Conditions(age_max=17))
    assert RULES[1] == Rule("first", Offer("Welcome", "offers/welcome.png", "w10"), Conditions(visits_max=0))
    assert RULES[4].when.time == TimeWindow(time(22, 0), time(2, 0))
    assert RULES[-1] == Rule("default", Offer("Weekly"))
    assert Offer("Weekly").as_dict() == {"text": "Weekly", "image": None, "id": None}


def test_first_visit_false_means_a_returning_customer() -> None:
    (returning, _) = parse_rules(
        {
            "rules": [
                {"name": "back", "offer": None, "when": {"first_visit": False}},
                {"name": "d", "offer": None},
            ]
        }
    )
    assert returning.when == Conditions(visits_min=1)


def test_rules_without_a_default_are_refused_by_choose_offer() -> None:
    with pytest.raises(ValueError, match="no default"):
        choose_offer(RULES[:1], Person(40.0, "male", 1), NOON)


def test_the_example_file_loads() -> None:
    rules = load_rules(REPO / "config" / "offers.example.yaml")
    assert rules[-1].when == Conditions() and len({rule.name for rule in rules}) == len(rules)


def document(*rules: str) -> str:
    return "rules:\n" + "".join(f"  - {rule}\n" for rule in rules)


DEFAULT = "{name: default, offer: {text: Weekly}}"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (document("{name: a, offer: null, colour: red}", DEFAULT), "rule 1 ('a'), key 'colour': unknown key"),
        (
            document(DEFAULT, "{name: b, offer: null, when: {age: 3}}"),
            "rule 2 ('b'), key 'when.age': unknown",
        ),
        (document("{name: a, offer: {text: x, price: 3}}", DEFAULT), "rule 1 ('a'), key 'offer.price'"),
        (
            document("{name: a, offer: null, when: {age_min: thirty}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_min'",
        ),
        (
            document("{name: a, offer: null, when: {age_max: true}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_max'",
        ),
        (
            document("{name: a, offer: null, when: {age_max: 200}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_max'",
        ),
        (
            document("{name: a, offer: null, when: {age_min: 40, age_max: 30}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_min': 40 is above age_max 30",
        ),
        (
            document("{name: a, offer: null, when: {age_buckets: [20-30]}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_buckets': unknown age bucket '20-30'",
        ),
        (
            document("{name: a, offer: null, when: {age_buckets: []}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_buckets'",
        ),
        (
            document("{name: a, offer: null, when: {age_buckets: [18-24], age_min: 18}}", DEFAULT),
            "rule 1 ('a'), key 'when.age_buckets': give age_buckets or age_min/age_max, not both",
        ),
        (
            document("{name: a, offer: null, when: {gender: woman}}", DEFAULT),
            "rule 1 ('a'), key 'when.gender': expected one of female, male, any",
        ),
        (
            document("{name: a, offer: null, when: {first_visit: 1}}", DEFAULT),
            "rule 1 ('a'), key 'when.first_visit'",
        ),
        (
            document("{name: a, offer: null, when: {first_visit: true, visits_min: 2}}", DEFAULT),
            "rule 1 ('a'), key 'when.first_visit': give first_visit or visits_min/visits_max",
        ),
        (
            document("{name: a, offer: null, when: {visits_min: 3, visits_max: 2}}", DEFAULT),
            "rule 1 ('a'), key 'when.visits_min': 3 is above visits_max 2",
        ),
        (
            document("{name: a, offer: null, when: {visits_min: -1}}", DEFAULT),
            "rule 1 ('a'), key 'when.visits_min'",
        ),
        (
            document("{name: a, offer: null, when: {time: '25:00-02:00'}}", DEFAULT),
            "rule 1 ('a'), key 'when.time'",
        ),
        (
            document("{name: a, offer: null, when: {time: '9:00-12:00'}}", DEFAULT),
            "rule 1 ('a'), key 'when.time'",
        ),
        (document("{name: a, offer: null, when: {time: 11:30}}", DEFAULT), "rule 1 ('a'), key 'when.time'"),
        (
            document("{name: a, offer: null, when: {time: '11:30-11:30'}}", DEFAULT),
            "rule 1 ('a'), key 'when.time': '11:30-11:30' is empty",
        ),
        (
            document("{name: a, offer: null, when: [gender]}", DEFAULT),
            "rule 1 ('a'), key 'when': expected a mapping",
        ),
        (document(DEFAULT, "{offer: null, when: {gender: male}}"), "rule 2, key 'name': missing"),
        (document("{name: 5, offer: null, when: {gender: male}}", DEFAULT), "rule 1, key 'name'"),
        (document("{name: a, when: {gender: male}}", DEFAULT), "rule 1 ('a'), key 'offer': missing"),
        (document("{name: a, offer: Welcome}", DEFAULT), "rule 1 ('a'), key 'offer': expected a mapping"),
        (document("{name: a, offer: {image: x.png}}", DEFAULT), "rule 1 ('a'), key 'offer.text': missing"),
        (document("{name: a, offer: {text: ''}}", DEFAULT), "rule 1 ('a'), key 'offer.text'"),
        (document("{name: a, offer: {text: x, id: 42}}", DEFAULT), "rule 1 ('a'), key 'offer.id'"),
        (
            document("{name: default, offer: null, when: {gender: male}}", DEFAULT),
            "rule 2 ('default'), key 'name': the same name as rule 1",
        ),
        (
            document("{name: a, offer: null}", "{name: b, offer: null, when: {gender: male}}", DEFAULT),
            "rule 1 ('a'), key 'when': a rule without conditions matches everyone",
        ),
        (
            document("{name: a, offer: null, when: {gender: male}}"),
            "rule 1 ('a'), key 'when': the last rule must have no conditions",
        ),
        (document("just text", DEFAULT), "rule 1: expected a mapping"),
        ("rules: []\n", "key 'rules': expected a non-empty list"),
        ("{}\n", "key 'rules'"),
        ("rulez: []\n", "unknown key 'rulez'"),
        ("- name: a\n", "expected a mapping with the key 'rules'"),
        ("", "expected a mapping with the key 'rules', got nothing"),
        ("rules:\n  - name: a\n   offer: {text: x\n", "not valid YAML at line 3"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_rule_and_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(text)
    with pytest.raises(OffersError) as refused:
        load_rules(path)
    assert str(refused.value).startswith(f"{path}: ") and names in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OffersError, match=r"cannot read offers file .*missing\.yaml"):
        load_rules(tmp_path / "missing.yaml")
