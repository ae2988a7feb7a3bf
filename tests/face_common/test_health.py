"""The OK/WARN/ERROR policy every node reports on /diagnostics."""

from __future__ import annotations

from face_common.health import Level, NodeHealth


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
