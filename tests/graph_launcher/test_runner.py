"""Process supervision rules, on real (shell) processes: exit codes, stop order, output prefixes."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest
from graph_launcher.runner import GraphRunner, ProcessPlan, describe_exit


def shell(label: str, script: str, shutdown_on_exit: bool = False) -> ProcessPlan:
    return ProcessPlan(label=label, argv=("/bin/sh", "-c", script), shutdown_on_exit=shutdown_on_exit)


def run(
    plans: list[ProcessPlan], stop_after: float | None = None, **options: float
) -> tuple[int, str, str, float]:
    """Run ``plans``; returns exit code, stdout, stderr and seconds taken."""
    stdout, stderr = io.StringIO(), io.StringIO()
    runner = GraphRunner(plans, dict(os.environ), stdout=stdout, stderr=stderr, **options)
    if stop_after is not None:
        threading.Timer(stop_after, runner.request_stop).start()
    started = time.monotonic()
    code = runner.run()
    return code, stdout.getvalue(), stderr.getvalue(), time.monotonic() - started


@pytest.mark.parametrize(
    ("returncode", "text"),
    [
        (0, "exited with code 0"),
        (3, "exited with code 3"),
        (-2, "killed by SIGINT"),
        (-9, "killed by SIGKILL"),
    ],
)
def test_describe_exit(returncode: int, text: str) -> None:
    assert describe_exit(returncode) == text


def test_output_lines_are_prefixed_per_stream() -> None:
    code, stdout, stderr, _ = run([shell("cam", "echo frame 1; echo oops >&2"), shell("det", "echo faces 2")])
    assert code == 0
    assert sorted(stdout.splitlines()) == ["[cam] frame 1", "[det] faces 2"]
    assert "[cam] oops" in stderr.splitlines()


@pytest.mark.parametrize(
    ("plans", "expected_code", "finished_early"),
    [
        # All nodes end on their own with 0: the graph ends with 0 when the last one does.
        ([shell("a", "exit 0"), shell("b", "sleep 0.5; echo done")], 0, False),
        # A failing node stops the others at once and fails the graph.
        ([shell("a", "sleep 0.2; exit 4"), shell("b", "sleep 30")], 1, True),
        # A failure is a failure even in an on_exit: shutdown node.
        ([shell("a", "sleep 0.2; exit 4", shutdown_on_exit=True), shell("b", "sleep 30")], 1, True),
        # on_exit: shutdown ending cleanly ends the graph cleanly.
        ([shell("a", "sleep 0.2", shutdown_on_exit=True), shell("b", "sleep 30")], 0, True),
        # A node killed by a signal it did not get from the launcher is a failure.
        ([shell("a", "sleep 0.2; kill -9 $$"), shell("b", "sleep 30")], 1, True),
    ],
    ids=["all-exit-0", "node-fails", "shutdown-node-fails", "shutdown-node-ends", "node-killed"],
)
def test_exit_rules(plans: list[ProcessPlan], expected_code: int, finished_early: bool) -> None:
    code, stdout, _, seconds = run(plans)
    assert code == expected_code
    assert seconds < 5.0
    if not finished_early:
        assert "[b] done" in stdout


def test_stop_request_stops_everything_with_sigint_and_exit_0() -> None:
    code, _, stderr, seconds = run([shell("a", "sleep 30"), shell("b", "sleep 30")], stop_after=0.3)
    assert code == 0
    assert seconds < 5.0
    assert "a killed by SIGINT after SIGINT" in stderr
    assert "SIGTERM" not in stderr


def test_node_ignoring_sigint_gets_sigterm_after_the_timeout() -> None:
    plans = [shell("stubborn", "trap '' INT; sleep 30")]
    code, _, stderr, seconds = run(plans, stop_after=0.3, sigint_timeout=0.5)
    assert code == 0
    assert "stubborn still running; sending SIGTERM" in stderr
    assert "stubborn killed by SIGTERM after SIGTERM" in stderr
    assert seconds < 5.0


def test_shutdown_grace_lets_the_others_finish_their_work() -> None:
    plans = [shell("camera", "exit 0", shutdown_on_exit=True), shell("detector", "sleep 0.3; echo drained")]
    code, stdout, _, _ = run(plans, shutdown_grace=3.0)
    assert code == 0
    assert "[detector] drained" in stdout


def test_a_second_shutdown_node_ending_cuts_the_grace_short() -> None:
    """store.launch.yaml: the camera's end starts the grace, the sink's idle exit ends it."""
    plans = [
        shell("camera", "exit 0", shutdown_on_exit=True),
        shell("sink", "sleep 0.3", shutdown_on_exit=True),
        shell("detector", "sleep 30"),
    ]
    code, _, stderr, seconds = run(plans, shutdown_grace=20.0)
    assert code == 0
    assert "sink has on_exit: shutdown too; stopping the graph now" in stderr
    assert seconds < 5.0


def test_a_node_that_cannot_start_fails_the_graph_and_stops_the_started_ones() -> None:
    plans = [shell("a", "sleep 30"), ProcessPlan(label="ghost", argv=("/nonexistent/ghost",))]
    code, _, stderr, seconds = run(plans)
    assert code == 1
    assert "cannot start ghost (/nonexistent/ghost)" in stderr
    assert "a killed by SIGINT after SIGINT" in stderr
    assert seconds < 5.0
