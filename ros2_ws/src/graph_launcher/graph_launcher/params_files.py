"""``config/<executable>.yaml``: every node's parameters with their defaults, in the ROS params-file
format (``--params-file``, ``param: [{from: ...}]`` in launch files), generated from the nodes'
settings dataclasses so the files can never disagree with the code.

A deployment copies a file and edits the copy. ``graph_params`` writes the files;
``graph_params --check`` (and a test) fails when one is stale.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import yaml
from face_common.graph_node import GraphNode
from face_common.settings import setting_fields

#: Packages whose console scripts may be nodes (the workspace's ament_python packages).
NODE_PACKAGES = (
    "camera_node",
    "face_detect_node",
    "identity_node",
    "agegender_node",
    "face_sink",
    "kafka_bridge",
    "signage_node",
)


def node_classes() -> Iterator[tuple[str, str, type[GraphNode]]]:
    """``(package, executable, node class)`` of every node executable of :data:`NODE_PACKAGES`."""
    for package in NODE_PACKAGES:
        for entry_point in metadata.distribution(package).entry_points.select(group="console_scripts"):
            module = importlib.import_module(entry_point.module)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, GraphNode)
                    and cls.__module__ == module.__name__
                    and "settings_class" in vars(cls)
                ):
                    yield package, entry_point.name, cls


def params_file_text(package: str, executable: str, node_class: type[GraphNode]) -> str:
    """The params file of one node: each setting's description as a comment above its default."""
    settings_class = node_class.settings_class
    lines = [
        f"# {package}/{executable}: every parameter with its default, from",
        f"# {settings_class.__module__}.{settings_class.__name__} (written by graph_params; do not edit:",
        "# copy it for a deployment and pass the copy with --params-file).",
        "/**:",
        "  ros__parameters:",
    ]
    for f in setting_fields(settings_class):
        description = f.metadata["description"]
        if f.metadata["choices"]:
            description += f"; one of {', '.join(f.metadata['choices'])}"
        low, high = f.metadata["range"]
        if low is not None:
            description += f" [{low}, {high}]"
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        value = yaml.safe_dump({f.name: default}, default_flow_style=True, width=1000).strip()[1:-1]
        lines += [f"    # {description}", f"    {value}"]
    return "\n".join(lines) + "\n"


def expected_files(folder: Path) -> dict[Path, str]:
    return {
        folder / f"{executable}.yaml": params_file_text(package, executable, cls)
        for package, executable, cls in node_classes()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=Path("config"), help="folder of the files (default: config)"
    )
    parser.add_argument(
        "--check", action="store_true", help="only check the files are current (exit 1 if not)"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files(args.dir).items():
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    verb = "stale (run graph_params)" if args.check else "written"
    for path in stale:
        print(f"{path}: {verb}", file=sys.stderr if args.check else sys.stdout)
    return 1 if args.check and stale else 0
