"""The workspace's Python packages built with colcon as on a ROS 2 install: every node a launch file
starts is where ``ros2 run``/``ros2 launch`` look (``<install>/<pkg>/lib/<pkg>/<exec>``), and the
command-line tools are in ``<install>/<pkg>/bin`` (on ``PATH`` once the workspace is sourced).

``graph_launch`` also finds console scripts elsewhere, which would hide a package that installs
its node in the wrong place; this test looks only where ROS looks. The build goes to a temporary
folder (nothing lands in ros2_ws/); face_msgs, the one CMake package, is not needed for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest
from graph_launcher.launch_file import read_launch_file

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "ros2_ws" / "src"
LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.yaml"))
CLI_TOOLS = {
    "face_analytics": {
        "face_report",
        "face_offline",
        "face_erase",
        "face_visits",
        "events_to_db",
        "local_kafka_broker",
    },
    "face_eval": {"face_predict", "face_metrics", "face_scenario"},
    "graph_launcher": {"graph_launch", "graph_run"},
}
"""Tools the README and scripts call by name from PATH (a package may add more)."""


def python_packages() -> list[Path]:
    """Source folders of the workspace's ament_python packages."""
    return sorted(
        xml.parent
        for xml in SOURCES.glob("*/package.xml")
        if ElementTree.parse(xml).findtext("export/build_type") == "ament_python"
    )


@pytest.fixture(scope="session")
def install_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``colcon build`` of the Python packages into a temporary build, install and log base."""
    base = tmp_path_factory.mktemp("colcon")
    venv_bin = Path(sys.executable).parent
    environment = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    for variable in ("AMENT_PREFIX_PATH", "COLCON_PREFIX_PATH", "CMAKE_PREFIX_PATH", "COLCON_DEFAULTS_FILE"):
        environment.pop(variable, None)  # a sourced workspace must not change what is built
    result = subprocess.run(
        [
            str(venv_bin / "colcon"),
            *("--log-base", str(base / "log")),
            "build",
            *("--paths", *map(str, python_packages())),
            *("--build-base", str(base / "build"), "--install-base", str(base / "install")),
            *("--parallel-workers", "2", "--event-handlers", "console_direct-"),
        ],
        cwd=base,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return base / "install"


def console_scripts(install: Path, pkg: str) -> set[str]:
    """The console scripts ``pkg`` declares, read from its installed metadata."""
    (egg_info,) = (install / pkg / "lib").glob(f"python3*/site-packages/{pkg}-*.egg-info")
    entry_points = PathDistribution(egg_info).entry_points
    return {ep.name for ep in entry_points if ep.group == "console_scripts"}


@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda p: p.name)
def test_every_launched_node_is_in_lib_of_its_package(install_base: Path, launch_file: Path) -> None:
    nodes = read_launch_file(launch_file).resolve({})
    missing = [
        f"{node.pkg}/{node.executable}"
        for node in nodes
        if not os.access(install_base / node.pkg / "lib" / node.pkg / node.executable, os.X_OK)
    ]
    assert not missing, f"{launch_file.name}: not in <install>/<pkg>/lib/<pkg>/: {', '.join(missing)}"


def test_packages_put_every_executable_in_one_place(install_base: Path) -> None:
    """A package with setup.cfg (the ROS layout) has all its executables in lib/<pkg> and none in
    bin/; one without has all of them in bin/ (its tools, on PATH); and the known tools are there."""
    for source in python_packages():
        pkg = source.name
        scripts = console_scripts(install_base, pkg)
        place = install_base / pkg / ("lib/" + pkg if (source / "setup.cfg").is_file() else "bin")
        installed = {p.name for p in place.iterdir()} if place.is_dir() else set()
        assert scripts <= installed, f"{pkg}: {sorted(scripts - installed)} not in {place}"
        if (source / "setup.cfg").is_file():
            assert not (install_base / pkg / "bin").exists(), f"{pkg}: has setup.cfg but installs into bin/"
        if pkg in CLI_TOOLS:
            assert place.name == "bin", f"{pkg} holds command-line tools: it must not have setup.cfg"
            assert CLI_TOOLS[pkg] <= installed, f"{pkg}: {sorted(CLI_TOOLS[pkg] - installed)} not in {place}"
