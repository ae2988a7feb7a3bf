"""``graph_launch FILE.launch.yaml [name:=value ...]``: run a launch-YAML graph like ``ros2 launch``."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from graph_launcher.command_line import node_command, resolve_executable
from graph_launcher.dds_env import DDS_CHOICE_VARIABLES, find_dds_profile, node_environment
from graph_launcher.launch_file import LaunchFile, LaunchFileError, parse_launch_arguments, read_launch_file
from graph_launcher.runner import GraphRunner, ProcessPlan


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graph_launch",
        description="Run a ROS 2 launch-YAML file: one process per node, Fast DDS large-frame profile, "
        "clean shutdown on Ctrl-C/SIGTERM, non-zero exit when a node fails.",
    )
    parser.add_argument("launch_file", type=Path, help="path to a *.launch.yaml file")
    parser.add_argument("launch_arguments", nargs="*", metavar="name:=value", help="launch argument values")
    parser.add_argument("--dry-run", action="store_true", help="print the node command lines and exit")
    parser.add_argument("-s", "--show-args", action="store_true", help="list the declared launch arguments")
    parser.add_argument(
        "--dds-profile",
        type=Path,
        help="Fast DDS XML profile for the nodes, replacing any Fast DDS choice in the environment "
        "(default: config/fastdds_profile.xml above the launch file, unless FASTDDS_DEFAULT_PROFILES_FILE "
        "or FASTDDS_BUILTIN_TRANSPORTS is set)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after an on_exit: shutdown node ends cleanly, let the others run this long "
        "(to finish the messages in flight) before stopping them; another on_exit: shutdown node "
        "ending in that time stops them at once",
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wait this long after SIGINT, then after SIGTERM, before escalating",
    )
    return parser


def format_arguments(launch_file: LaunchFile) -> str:
    """The ``--show-args`` listing, shaped like ``ros2 launch --show-args``."""
    lines = ["Arguments (pass arguments as '<name>:=<value>'):"]
    for argument in launch_file.all_arguments():
        default = "(required)" if argument.default is None else f"(default: '{argument.default}')"
        description = argument.description or "no description"
        lines.append(f"    '{argument.name}':\n        {description}\n        {default}")
    if not launch_file.all_arguments():
        lines.append("    No arguments.")
    return "\n".join(lines)


def plan_graph(launch_file: LaunchFile, argument_tokens: Sequence[str]) -> list[ProcessPlan]:
    """Resolve every node of the file into a process to start, with unique output labels."""
    specs = launch_file.resolve(parse_launch_arguments(argument_tokens))
    plans: list[ProcessPlan] = []
    used: dict[str, int] = {}
    for spec in specs:
        used[spec.label] = used.get(spec.label, 0) + 1
        label = spec.label if used[spec.label] == 1 else f"{spec.label}-{used[spec.label]}"
        argv = node_command(spec, resolve_executable(spec.pkg, spec.executable))
        plans.append(ProcessPlan(label=label, argv=tuple(argv), shutdown_on_exit=spec.shutdown_on_exit))
    return plans


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_intermixed_args(argv)
    try:
        launch_file = read_launch_file(options.launch_file)
        if options.show_args:
            print(format_arguments(launch_file))
            return 0
        plans = plan_graph(launch_file, options.launch_arguments)
    except LaunchFileError as error:
        print(f"graph_launch: error: {error}", file=sys.stderr)
        return 2
    if options.dds_profile is not None and not options.dds_profile.is_file():
        print(f"graph_launch: error: DDS profile {options.dds_profile} does not exist", file=sys.stderr)
        return 2
    if options.dds_profile is not None:  # An explicit choice replaces whatever the environment says.
        base = {key: value for key, value in os.environ.items() if key not in DDS_CHOICE_VARIABLES}
        environment = node_environment(base, options.dds_profile.resolve())
    else:
        environment = node_environment(os.environ, find_dds_profile(options.launch_file.parent))
    if options.dry_run:
        for name in ("RMW_IMPLEMENTATION", *DDS_CHOICE_VARIABLES):
            if name in environment:
                print(f"{name}={environment[name]}")
        for plan in plans:
            print(f"[{plan.label}] {shlex.join(plan.argv)}")
        return 0

    runner = GraphRunner(
        plans,
        environment,
        sigint_timeout=options.stop_timeout,
        sigterm_timeout=options.stop_timeout,
        shutdown_grace=options.shutdown_grace,
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: runner.request_stop())
    return runner.run()


if __name__ == "__main__":
    sys.exit(main())
