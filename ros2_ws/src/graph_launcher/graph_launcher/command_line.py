"""Turning a node spec into the command line ``ros2 launch`` would run for it.

``ros2 run pkg exec`` finds ``lib/<pkg>/<exec>`` in an ament prefix. The node packages' setup.cfg
puts their console scripts exactly there, under colcon's install prefix and, with
``pip install -e``, under the venv, so the same lookup serves both (tools without that layout fall
back to the scripts folder, then to ``PATH``). Parameter files go on the command line as
``--params-file PATH``, then single parameters as ``-p name:=value`` (those win), which rcl reads
as YAML: strings that YAML would read as another type are quoted so that ``camera_id:='123'``
stays a string.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import yaml

from graph_launcher.launch_file import LaunchFileError, NodeSpec, ParamValue


def render_param_value(value: ParamValue) -> str:
    """Render a parameter value as the YAML literal rcl parses back to the same type."""
    if isinstance(value, list):
        return "[" + ", ".join(render_param_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return value if _reads_back_as_string(value) else "'" + value.replace("'", "''") + "'"


def _reads_back_as_string(text: str) -> bool:
    """Whether an unquoted ``text`` is read back as this very string (rcl also takes ``1e5`` as a double)."""
    try:
        float(text)
    except ValueError:
        pass
    else:
        return False
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def package_prefixes() -> list[Path]:
    """Install prefixes to search, as ``ros2 run`` does: ``AMENT_PREFIX_PATH``, then this venv."""
    prefixes = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return [*prefixes, Path(sys.prefix)]


def resolve_executable(pkg: str, executable: str, search_path: str | None = None) -> str:
    """Path of ``exec`` of package ``pkg``: ``<prefix>/lib/<pkg>/<exec>`` (the ROS layout), else the
    console script of the installed distribution ``pkg``, else ``exec`` on PATH.

    A distribution named ``pkg`` that lacks the console script is an error rather than a PATH
    fallback, so a typo in ``exec`` cannot start an unrelated program of that name.
    """
    for prefix in package_prefixes():
        candidate = prefix / "lib" / pkg / executable
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    try:
        distribution = metadata.distribution(pkg)
    except metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        scripts = sorted(ep.name for ep in distribution.entry_points if ep.group == "console_scripts")
        if executable not in scripts:
            raise LaunchFileError(
                f"package '{pkg}' has no executable '{executable}'; "
                f"it installs: {', '.join(scripts) or '(none)'}"
            )
        script = Path(sysconfig.get_path("scripts")) / executable
        if not script.is_file():
            raise LaunchFileError(
                f"package '{pkg}' declares '{executable}' but {script} is missing; reinstall the package"
            )
        return str(script)
    found = shutil.which(executable, path=search_path)
    if found is None:
        raise LaunchFileError(
            f"cannot find executable '{executable}': no installed package '{pkg}' provides it "
            "and it is not on PATH"
        )
    return found


def node_command(spec: NodeSpec, executable_path: str) -> list[str]:
    """The argv for one node: its own arguments, then the ROS arguments launch_ros would pass."""
    ros_arguments: list[str] = []
    if spec.name is not None:
        ros_arguments += ["-r", f"__node:={spec.name}"]
    if spec.namespace is not None:
        ros_arguments += ["-r", f"__ns:={spec.namespace}"]
    for path in spec.params_files:  # files first, as launch_ros orders them; rcl's -p values win
        ros_arguments += ["--params-file", path]
    for name, value in spec.params:
        ros_arguments += ["-p", f"{name}:={render_param_value(value)}"]
    for source, target in spec.remaps:
        ros_arguments += ["-r", f"{source}:={target}"]
    command = [executable_path, *spec.arguments]
    return [*command, "--ros-args", *ros_arguments] if ros_arguments else command
