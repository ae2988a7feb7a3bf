"""The signage node as a real process: attributed faces of one camera in over DDS, the offer for the
person in front out on ``offer``, following the rules, the loyalty in the event store and the
debounce; a screen that subscribes late still gets the current offer; a wrong rules file stops it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FaceEvent, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg
from face_sink.schema import open_sqlite_store
from rclpy.publisher import Publisher
from ros_processes import RosProcesses, exit_counters, finish, reported, status_values, stop, wait_until
from signage_node.signage_node import OFFER_QOS
from std_msgs.msg import String

CAMERA = "door"
S = 10**9
DAY_S = 86_400
T0 = 1_700_000_000 * S  # 22:13:20 UTC
TIMEOUT_S = 30.0
RULES = """
rules:
  - name: regulars
    offer: {text: Coffee on us, id: coffee}
    when: {visits_min: 2}
  - name: welcome
    offer: {text: Welcome, image: offers/welcome.png}
    when: {first_visit: true}
  - name: late-men
    offer: {text: Night deal}
    when: {gender: male, time: "22:00-23:00"}
  - name: default
    offer: null
"""
REGULAR, NEWCOMER = 7, 9


def faces_msg(t_s: float, *faces: tuple[int, int, str]) -> FacesMsg:
    """A frame at ``T0 + t_s`` with faces ``(face_id, size, gender)``."""
    return frame_faces_to_msg(
        FrameFaces(
            FrameRef(CAMERA, T0 + round(t_s * S)),
            [
                Face(i, Box(100 * i, 0, size, size), 1.0, face_id=face_id, age=30.0, gender=gender)
                for i, (face_id, size, gender) in enumerate(faces)
            ],
        )
    )


def event_store_with_a_regular(path: Path) -> None:
    """Face 7 came on two earlier days (one trip past two cameras), face 9 never."""
    store = open_sqlite_store(path)
    store.write_events(
        FaceEvent(camera, T0 - days * DAY_S * S + i, 0, REGULAR, 30.0, "male", Box(0, 0, 9, 9), 0.1, False)
        for days in (2, 1)
        for i, camera in enumerate(("door", "till"))
    )
    store.close()


def start_signage(ros_graph: RosProcesses, **params: object) -> tuple[subprocess.Popen, Publisher]:
    publisher = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_attributed", FACES_QOS)
    node = ros_graph.start("signage_node", "signage_node", namespace=CAMERA, **params)
    if not wait_until(lambda: publisher.get_subscription_count() > 0 or node.poll() is not None, TIMEOUT_S):
        node.kill()
    assert node.poll() is None, f"the signage node did not subscribe; log:\n{finish(node)[1]}"
    return node, publisher


def test_offers_follow_the_rules_loyalty_and_the_debounce(ros_graph: RosProcesses, tmp_path: Path) -> None:
    offers_file, database = tmp_path / "offers.yaml", tmp_path / "events.sqlite"
    offers_file.write_text(RULES)
    event_store_with_a_regular(database)
    offers = ros_graph.collect(String, f"/{CAMERA}/offer", lambda m: json.loads(m.data), OFFER_QOS)
    node, publisher = start_signage(
        ros_graph,
        offers_file=offers_file,
        database=database,
        timezone="UTC",
        min_display_s=5.0,
        clear_after_s=2.0,
    )

    def shown(*frames: FacesMsg, count: int) -> None:
        for msg in frames:
            publisher.publish(msg)
        assert wait_until(lambda: len(offers) >= count, TIMEOUT_S), f"offers so far: {offers}"

    # The newcomer's face is the larger: welcome. The regular in front 1 s later waits for 5 s.
    shown(faces_msg(0, (REGULAR, 40, "male"), (NEWCOMER, 80, "female")), count=1)
    shown(
        faces_msg(1, (REGULAR, 90, "male")),
        faces_msg(4.9, (REGULAR, 90, "male")),
        faces_msg(5, (REGULAR, 90, "male")),
        count=2,
    )
    # Nobody in front for 2 s clears. A face without an ID yet is no first visit, but a man at 22:13 UTC...
    shown(faces_msg(6), faces_msg(6.9), faces_msg(7), count=3)
    shown(faces_msg(8.5, (UNKNOWN_FACE_ID, 60, "male")), count=4)
    # ... and an unknown gender gets the default, once the 5 s are over.
    shown(faces_msg(9, (UNKNOWN_FACE_ID, 60, "")), faces_msg(13.5, (UNKNOWN_FACE_ID, 60, "")), count=5)

    late_screen = ros_graph.collect(String, f"/{CAMERA}/offer", lambda m: json.loads(m.data), OFFER_QOS)
    assert wait_until(lambda: len(late_screen) >= 1, TIMEOUT_S)
    log = stop(node)

    assert [(o["stamp_ns"], o["face_id"], o["rule"], o["offer"]) for o in offers] == [
        (T0, NEWCOMER, "welcome", {"text": "Welcome", "image": "offers/welcome.png", "id": None}),
        (T0 + 5 * S, REGULAR, "regulars", {"text": "Coffee on us", "image": None, "id": "coffee"}),
        (T0 + 7 * S, None, None, None),
        (T0 + 8_500_000_000, UNKNOWN_FACE_ID, "late-men", {"text": "Night deal", "image": None, "id": None}),
        (T0 + 13_500_000_000, UNKNOWN_FACE_ID, "default", None),
    ]
    assert {o["camera_id"] for o in offers} == {CAMERA}
    assert late_screen == offers[-1:]  # the current offer only
    assert exit_counters(log) == {
        "frames": 10,
        "offers_shown": 4,
        "cleared": 1,
        "bad_messages": 0,
        "store_errors": 0,
    }, log
    assert "showing the offer of rule 'regulars'" in log and "face_id" not in log, log


def test_without_a_readable_event_store_loyalty_rules_match_nobody(
    ros_graph: RosProcesses, tmp_path: Path
) -> None:
    offers_file = tmp_path / "offers.yaml"
    offers_file.write_text(RULES)
    health = ros_graph.diagnostics(f"/{CAMERA}/signage_node")
    offers = ros_graph.collect(String, f"/{CAMERA}/offer", lambda m: json.loads(m.data), OFFER_QOS)
    node, publisher = start_signage(
        ros_graph, offers_file=offers_file, database=tmp_path / "none.sqlite", timezone="UTC"
    )
    publisher.publish(faces_msg(0, (NEWCOMER, 80, "male")))
    assert wait_until(lambda: len(offers) >= 1, TIMEOUT_S)
    warning = reported(health, Level.WARN, "store_errors")
    log = stop(node)
    assert offers[0]["rule"] == "late-men"  # not "welcome": no visits known, so no first visit
    assert "visits table not read" in log and "no event database" in log, log
    assert not (tmp_path / "none.sqlite").exists()
    assert int(status_values(warning)["store_errors"]) >= 1


def test_a_wrong_rules_file_stops_the_node_naming_the_rule_and_key(
    ros_graph: RosProcesses, tmp_path: Path
) -> None:
    offers_file = tmp_path / "offers.yaml"
    offers_file.write_text(RULES.replace("gender: male", "gender: man"))
    node = ros_graph.start("signage_node", "signage_node", namespace=CAMERA, offers_file=offers_file)
    code, log = finish(node)
    assert code == 1, log
    assert f"cannot start: {offers_file}: rule 3 ('late-men'), key 'when.gender'" in log, log
