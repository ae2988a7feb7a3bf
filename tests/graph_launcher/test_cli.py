"""``graph_launch`` end to end: dry runs, errors, and real rclpy node graphs over DDS."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest
from graph_launcher.cli import main
from ros_processes import finish

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_GRAPH = Path(__file__).resolve().parent / "graphs" / "talk_listen.launch.yaml"
GRAPH_LAUNCH = Path(sysconfig.get_path("scripts")) / "graph_launch"
STARTUP_TIMEOUT_S = 60.0


@pytest.fixture
def nodes_on_path(test_nodes_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{test_nodes_bin}{os.pathsep}{os.environ['PATH']}")
    for name in (
        "FASTDDS_DEFAULT_PROFILES_FILE",
        "FASTRTPS_DEFAULT_PROFILES_FILE",
        "FASTDDS_BUILTIN_TRANSPORTS",
    ):
        monkeypatch.delenv(name, raising=False)
    return test_nodes_bin


def test_dry_run_prints_the_dds_environment_and_each_command(
    nodes_on_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([str(TEST_GRAPH), "--dry-run", "out_path:=/tmp/x.json", "ns:=shop", "greeting:=hi there"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines == [
        "RMW_IMPLEMENTATION=rmw_fastrtps_cpp",
        f"FASTDDS_DEFAULT_PROFILES_FILE={REPO_ROOT / 'config' / 'fastdds_profile.xml'}",
        f"[speaker] {nodes_on_path / 'talker'} --ros-args -r __node:=speaker -r __ns:=/shop "
        "-p 'greeting:=hi there' -p fail_after:=0 -p period:=0.05",
        f"[ear] {nodes_on_path / 'listener'} --ros-args -r __node:=ear -r __ns:=/shop "
        "-p out_path:=/tmp/x.json -p expect:=0 -p count:=7 -p ratio:=0.25 -p flag:=true "
        "-p 'label:='\"'\"'1e5'\"'\"'' -p 'empty:='\"'\"''\"'\"'' -r heard:=chatter",
    ]


@pytest.mark.parametrize(
    ("environment", "explicit_profile", "expected"),
    [
        ({}, False, f"FASTDDS_DEFAULT_PROFILES_FILE={REPO_ROOT / 'config' / 'fastdds_profile.xml'}"),
        ({"FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA"}, False, "FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA"),
        ({"FASTDDS_DEFAULT_PROFILES_FILE": "/mine.xml"}, False, "FASTDDS_DEFAULT_PROFILES_FILE=/mine.xml"),
        ({"FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA"}, True, "FASTDDS_DEFAULT_PROFILES_FILE={explicit}"),
    ],
    ids=["repository-profile", "user-builtin-transports", "user-profile", "flag-wins"],
)
def test_dds_choice(
    nodes_on_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    explicit_profile: bool,
    expected: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    explicit = tmp_path / "other_profile.xml"
    explicit.write_text("<dds/>")
    flag = ["--dds-profile", str(explicit)] if explicit_profile else []
    assert main([str(TEST_GRAPH), "--dry-run", "out_path:=x", *flag]) == 0
    dds_lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FASTDDS")]
    assert dds_lines == [expected.format(explicit=explicit)]


def test_missing_explicit_profile_exits_2(nodes_on_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TEST_GRAPH), "out_path:=x", "--dds-profile", "/no/such/profile.xml"]) == 2
    assert "DDS profile /no/such/profile.xml does not exist" in capsys.readouterr().err


def test_show_args_lists_declared_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TEST_GRAPH), "--show-args"]) == 0
    listing = capsys.readouterr().out
    assert "'out_path':\n        JSON file the listener writes (required)\n        (required)" in listing
    assert "'greeting':\n        Text the talker sends\n        (default: 'hello')" in listing


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["out_path:=x", "colour:=red"], "unknown launch argument(s) colour"),
        ([], "launch argument 'out_path' is required"),
        (["out_path"], "launch argument 'out_path' must look like name:=value"),
    ],
)
def test_argument_errors_exit_2_with_a_message(
    nodes_on_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main([str(TEST_GRAPH), "--dry-run", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_malformed_file_exits_2_naming_file_entry_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.launch.yaml"
    bad.write_text("launch:\n- node: {pkg: camera_node, exec: camera_node, respawn: 'true'}\n")
    assert main([str(bad)]) == 2
    assert (
        f"graph_launch: error: {bad}: launch entry #1 (node): unsupported key(s) respawn"
        in capsys.readouterr().err
    )


def test_missing_executable_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = tmp_path / "g.launch.yaml"
    graph.write_text("launch:\n- node: {pkg: no_such_pkg_xyz, exec: no_such_exec_xyz}\n")
    assert main([str(graph)]) == 2
    assert "cannot find executable 'no_such_exec_xyz'" in capsys.readouterr().err


# --- real graphs: two rclpy processes talking over Fast DDS, started by the installed entry point ---


def launch(arguments: list[str], domain_id: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(GRAPH_LAUNCH), str(TEST_GRAPH), *arguments],
        env={**os.environ, "ROS_DOMAIN_ID": str(domain_id)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def started_pids(log: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"started (\w+) \[pid (\d+)\]", log)}


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_graph_passes_args_params_and_remaps_and_ends_with_its_shutdown_node(
    nodes_on_path: Path, ros_domain_id: int, tmp_path: Path
) -> None:
    record_path = tmp_path / "heard.json"
    arguments = ["ns:=shop", "greeting:=hi", "expect:=5", f"out_path:={record_path}"]
    code, log = finish(launch(arguments, ros_domain_id), STARTUP_TIMEOUT_S)

    assert code == 0, log
    record = json.loads(record_path.read_text())
    assert record["node"] == "/shop/ear"
    assert record["topic"] == "/shop/chatter"
    assert len(record["messages"]) == 5
    assert all(message.startswith("hi ") for message in record["messages"])
    assert record["params"] == {
        "count": [7, "int"],
        "ratio": [0.25, "float"],
        "flag": [True, "bool"],
        "label": ["1e5", "str"],
        "empty": ["", "str"],
    }
    assert "[graph_launch] ear exited with code 0" in log
    assert "speaker exited with code 0 after SIGINT" in log
    assert "XMLPARSER" not in log, "Fast DDS rejected config/fastdds_profile.xml"
    for pid in started_pids(log).values():
        assert_gone(pid)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signal_to_the_launcher_stops_the_graph_cleanly(
    nodes_on_path: Path, ros_domain_id: int, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    record_path = tmp_path / "heard.json"
    process = launch([f"out_path:={record_path}"], ros_domain_id)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not (record_path.exists() and len(json.loads(record_path.read_text())["messages"]) >= 3):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the graph never delivered 3 messages:\n{process.communicate()[0]}")
        time.sleep(0.1)

    process.send_signal(stop_signal)
    code, log = finish(process, timeout_s=15.0)

    assert code == 0, log
    assert "speaker exited with code 0 after SIGINT" in log
    assert "ear exited with code 0 after SIGINT" in log
    assert "sending SIGTERM" not in log
    pids = started_pids(log)
    assert set(pids) == {"speaker", "ear"}
    for pid in pids.values():
        assert_gone(pid)


def test_a_dying_node_stops_the_graph_with_a_non_zero_exit(
    nodes_on_path: Path, ros_domain_id: int, tmp_path: Path
) -> None:
    code, log = finish(
        launch([f"out_path:={tmp_path / 'heard.json'}", "fail_after:=3"], ros_domain_id), STARTUP_TIMEOUT_S
    )

    assert code == 1
    assert "[speaker] " in log and "failing on purpose" in log
    assert "[graph_launch] speaker exited with code 3" in log
    assert "ear exited with code 0 after SIGINT" in log
