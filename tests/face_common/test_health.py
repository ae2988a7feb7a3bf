"""The OK/WARN/ERROR policy every node reports on /diagnostics."""

from __future__ import annotations

from face_common.health import Level, NodeHealth, ProblemLog


def test_ok_until_a_problem_counter_rises_then_warn_for_one_report_only() -> None:
    health = NodeHealth(["frames"], ["bad_messages"])
    health.count("frames", 5)
    assert health.report().level is Level.OK
    assert health.count("bad_messages") == 1
    report = health.report()
    assert (report.level, report.message) == (Level.WARN, "bad_messages +1")
    assert report.values == {"frames": 5, "bad_messages": 1}
    assert health.report().level is Level.OK  # nothing new since


def test_a_standing_fault_is_error_until_cleared_and_gauges_do_not_warn() -> None:
    health = NodeHealth(["pending"], ["dropped"])
    health.set("pending", 40)
    health.fault = "database unavailable"
    health.count("dropped", 2)
    assert (health.report().level, health.report().message) == (Level.ERROR, "database unavailable")
    health.fault = None
    assert health.report().level is Level.OK  # the drops were reported with the fault
    assert health.summary() == "pending=40 dropped=2"


def test_a_problem_is_logged_once_per_period_and_kind() -> None:
    log = ProblemLog(period_s=5.0, max_kinds=2)
    assert log.due("bad_messages", "frame 12: step 100 < 3840", now=0.0)
    assert not log.due("bad_messages", "frame 13: step 90 < 3840", now=1.0)  # same kind: numbers differ
    assert log.due("bad_messages", "frame 14: wrong encoding 'yuv'", now=1.0)  # another kind
    assert log.due("dropped", "frame 14: wrong encoding 'yuv'", now=1.0)  # another counter
    assert log.due("bad_messages", "frame 15: step 90 < 3840", now=5.0)  # the period has passed
    assert log.due("bad_messages", "truncated JPEG", now=6.0)  # past max_kinds: one shared slot ...
    assert not log.due("bad_messages", "random bytes", now=7.0)  # ... so the log stays bounded
