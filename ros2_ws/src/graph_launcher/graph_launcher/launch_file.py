"""Reading ROS 2 launch-YAML files: the subset the project's graphs use, nothing more.

The files must keep working with ``ros2 launch`` on a full ROS 2 install, so this module accepts
only tags and attributes that ``launch``/``launch_ros`` define, with their meaning, and rejects
everything else by name instead of silently ignoring it (an ignored ``respawn`` or ``$(env ...)``
would make the two launchers run different graphs). Supported::

    launch:
    - arg: {name: fps, default: "12", description: "..."}
    - node:
        pkg: camera_node            # required
        exec: camera_node           # required
        name: camera
        namespace: $(var camera_id)
        param:
        - {from: $(dirname)/../config/camera_node.yaml}   # a ROS parameters file (--params-file)
        - {name: fps, value: $(var fps)}                   # wins over the file
        remap: [{from: image, to: image_raw}]
        args: "--extra cli args"
        output: screen              # screen | log | both (all go to the screen here)
        on_exit: shutdown           # stop the whole graph when this node exits
    - include:
        file: $(dirname)/pi.launch.yaml
        arg: [{name: camera_id, value: $(var camera_id)}]

The substitutions are ``$(var NAME)`` and ``$(dirname)`` (the directory of the file it is written
in). As in ``launch_ros``, a parameter value written as a string is typed after substitution the
way YAML would read it (``"12"`` -> 12, ``"true"`` -> True). As in ``launch``, an included file sees
the including file's launch configurations (its arguments and the command line's), an include's
``arg`` values override them for that file only, and its own ``arg`` defaults fill the rest; what
it declares does not leak back. The included file's path may use ``$(dirname)`` but no ``$(var)``:
it is read with its parent, so that ``--show-args`` lists every argument of the graph and a cycle
or a misspelled argument fails before anything starts.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Scalar = bool | int | float | str
ParamValue = Scalar | list[bool] | list[int] | list[float] | list[str]
"""What a ROS parameter can hold here: a scalar or a non-empty array of one scalar type."""
"""Parameter values the files may set: ROS 2 scalar parameter types."""

ARG_KEYS = frozenset({"name", "default", "description"})
NODE_KEYS = frozenset({"pkg", "exec", "name", "namespace", "param", "remap", "args", "output", "on_exit"})
PARAM_KEYS = frozenset({"name", "value"})
PARAM_FILE_KEYS = frozenset({"from"})
INCLUDE_KEYS = frozenset({"file", "arg"})
INCLUDE_ARG_KEYS = frozenset({"name", "value"})
REMAP_KEYS = frozenset({"from", "to"})
OUTPUT_VALUES = frozenset({"screen", "log", "both"})
ON_EXIT_VALUES = frozenset({"shutdown"})

_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")
_ROS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class LaunchFileError(ValueError):
    """A launch file or launch argument this launcher cannot run, with the place it went wrong."""


@dataclass(frozen=True)
class LaunchArgument:
    """A declared launch argument (``arg`` tag); ``default`` None means it must be given."""

    name: str
    default: str | None
    description: str


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph with every substitution performed."""

    pkg: str
    executable: str
    name: str | None
    namespace: str | None
    params: tuple[tuple[str, ParamValue], ...]
    remaps: tuple[tuple[str, str], ...]
    arguments: tuple[str, ...]
    output: str
    shutdown_on_exit: bool
    params_files: tuple[str, ...] = ()
    """ROS parameter files (``param: [{from: ...}]``), passed before the single values so those win."""

    @property
    def label(self) -> str:
        """Name used to prefix the node's output: its node name, else its executable."""
        return self.name or self.executable


@dataclass(frozen=True)
class _NodeEntry:
    """A validated ``node`` tag whose strings still hold ``$(var ...)`` substitutions."""

    where: str
    attributes: Mapping[str, str]
    params: tuple[tuple[str, Any], ...]
    remaps: tuple[tuple[str, str], ...]
    params_files: tuple[str, ...]


@dataclass(frozen=True)
class _IncludeEntry:
    """A validated ``include`` tag: the file already read, its ``arg`` values still unsubstituted."""

    where: str
    launch_file: LaunchFile
    arguments: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LaunchFile:
    """A parsed and validated launch file; ``resolve`` turns it into node specs for given arguments."""

    source: str
    directory: str
    """What ``$(dirname)`` stands for: the absolute directory of the file."""
    arguments: tuple[LaunchArgument, ...]
    entries: tuple[_NodeEntry | _IncludeEntry, ...]

    def all_arguments(self) -> tuple[LaunchArgument, ...]:
        """The arguments of this file and of the files it includes, first declaration of a name
        first: what the command line may set (``ros2 launch --show-args`` lists them the same way)."""
        seen: dict[str, LaunchArgument] = {argument.name: argument for argument in self.arguments}
        for entry in self.entries:
            if isinstance(entry, _IncludeEntry):
                for argument in entry.launch_file.all_arguments():
                    seen.setdefault(argument.name, argument)
        return tuple(seen.values())

    def resolve(self, overrides: Mapping[str, str]) -> tuple[NodeSpec, ...]:
        """Apply command-line argument values (``name:=value``) and perform all substitutions."""
        declared = {argument.name for argument in self.all_arguments()}
        unknown = sorted(set(overrides) - declared)
        if unknown:
            raise LaunchFileError(
                f"{self.source}: unknown launch argument(s) {', '.join(unknown)}; "
                f"declared: {', '.join(sorted(declared)) or '(none)'}"
            )
        return self._resolve(overrides)

    def _resolve(self, configuration: Mapping[str, str]) -> tuple[NodeSpec, ...]:
        """Resolve with the launch configurations in scope (the command line's, the includer's)."""
        values = self._argument_values(configuration)
        nodes: list[NodeSpec] = []
        for entry in self.entries:
            if isinstance(entry, _IncludeEntry):
                scope = dict(values)  # a copy: what the included file sets stays in it
                for name, raw in entry.arguments:
                    scope[name] = self._substitute(raw, values, f"{entry.where} arg '{name}'")
                nodes.extend(entry.launch_file._resolve(scope))
            else:
                nodes.append(self._resolve_node(entry, values))
        return tuple(nodes)

    def _substitute(self, text: str, values: Mapping[str, str], where: str) -> str:
        return substitute(text, values, where, directory=self.directory)

    def _argument_values(self, configuration: Mapping[str, str]) -> dict[str, str]:
        values = dict(configuration)
        for argument in self.arguments:
            if argument.name in values:
                continue
            if argument.default is None:
                raise LaunchFileError(
                    f"{self.source}: launch argument '{argument.name}' is required "
                    f"(no default); pass {argument.name}:=VALUE"
                )
            where = f"{self.source}: arg '{argument.name}' default"
            values[argument.name] = self._substitute(argument.default, values, where)
        return values

    def _resolve_node(self, entry: _NodeEntry, values: Mapping[str, str]) -> NodeSpec:
        def text(key: str) -> str | None:
            raw = entry.attributes.get(key)
            return None if raw is None else self._substitute(raw, values, f"{entry.where} '{key}'")

        pkg, executable = text("pkg"), text("exec")
        name, namespace = text("name"), text("namespace")
        if not pkg or not executable:
            raise LaunchFileError(f"{entry.where}: 'pkg' and 'exec' must not be empty")
        if name is not None and not _ROS_NAME.fullmatch(name):
            raise LaunchFileError(f"{entry.where}: invalid node name {name!r}")
        if namespace is not None:
            namespace = "/" + namespace.strip("/")
            if namespace != "/" and not all(_ROS_NAME.fullmatch(t) for t in namespace[1:].split("/")):
                raise LaunchFileError(f"{entry.where}: invalid namespace {namespace!r}")
        output = text("output") or "screen"
        if output not in OUTPUT_VALUES:
            raise LaunchFileError(
                f"{entry.where}: output {output!r} not supported; "
                f"use one of {', '.join(sorted(OUTPUT_VALUES))}"
            )
        params = tuple(
            (
                self._substitute(param_name, values, f"{entry.where} param name"),
                self._param_value(raw_value, values, f"{entry.where} param '{param_name}'"),
            )
            for param_name, raw_value in entry.params
        )
        params_files = tuple(
            self._params_file(raw, values, f"{entry.where} param from") for raw in entry.params_files
        )
        remaps = tuple(
            (
                self._substitute(src, values, f"{entry.where} remap"),
                self._substitute(dst, values, f"{entry.where} remap"),
            )
            for src, dst in entry.remaps
        )
        for src, dst in remaps:
            if not src or not dst:
                raise LaunchFileError(f"{entry.where}: remap {src!r} -> {dst!r} has an empty side")
        return NodeSpec(
            pkg=pkg,
            executable=executable,
            name=name,
            namespace=namespace,
            params=params,
            remaps=remaps,
            arguments=tuple(shlex.split(text("args") or "")),
            output=output,
            shutdown_on_exit=entry.attributes.get("on_exit") == "shutdown",
            params_files=params_files,
        )

    def _params_file(self, raw: str, values: Mapping[str, str], where: str) -> str:
        """The substituted path of a parameters file; relative paths stay relative to the working
        directory, as with ``ros2 launch``. A missing file fails here, before any node starts."""
        path = os.path.normpath(self._substitute(raw, values, where))
        if not Path(path).is_file():
            raise LaunchFileError(f"{where}: parameters file {path} does not exist")
        return path

    def _param_value(self, raw: Any, values: Mapping[str, str], where: str) -> ParamValue:
        if isinstance(raw, str):
            return typed_param_value(self._substitute(raw, values, where))
        if isinstance(raw, list):
            items = [
                typed_param_value(self._substitute(v, values, where)) if isinstance(v, str) else v
                for v in raw
            ]
            value = parameter_value(items)
            if value is None:
                raise LaunchFileError(f"{where}: list items must all have one type, got {items!r}")
            return value
        return raw


def substitute(text: str, values: Mapping[str, str], where: str, directory: str | None = None) -> str:
    """Replace every ``$(var NAME)``, and ``$(dirname)`` when ``directory`` is given; any other
    substitution is an error."""

    def replace(match: re.Match[str]) -> str:
        words = match.group(1).split()
        if words == ["dirname"] and directory is not None:
            return directory
        if len(words) != 2 or words[0] != "var":
            supported = "$(var NAME) and $(dirname) are" if directory is not None else "$(var NAME) is"
            raise LaunchFileError(
                f"{where}: unsupported substitution {match.group(0)!r}; only {supported} supported"
            )
        if words[1] not in values:
            raise LaunchFileError(f"{where}: $(var {words[1]}) refers to an undeclared launch argument")
        return values[words[1]]

    result = _SUBSTITUTION.sub(replace, text)
    if "$(" in _SUBSTITUTION.sub("", text):
        raise LaunchFileError(f"{where}: malformed substitution in {text!r}")
    return result


def parameter_value(value: Any) -> ParamValue | None:
    """``value`` as a ROS parameter value, or None when ROS has no such type.

    Arrays hold one type (bool, int, float or string); ints among floats become floats, as in
    ROS 2's YAML parameter rules.
    """
    if isinstance(value, bool | int | float | str):
        return value
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, bool | int | float | str) for v in value)
    ):
        return None
    kinds = {bool if isinstance(v, bool) else type(v) for v in value}
    if kinds == {int, float}:
        return [float(v) for v in value]
    return list(value) if len(kinds) == 1 else None


def typed_param_value(text: str) -> ParamValue:
    """Type a substituted string as ``launch_ros`` does: by YAML, keeping it a string otherwise."""
    try:
        value = parameter_value(yaml.safe_load(text))
    except yaml.YAMLError:
        return text
    return text if value is None else value


def parse_launch_arguments(tokens: Sequence[str]) -> dict[str, str]:
    """Parse ``name:=value`` tokens as ``ros2 launch`` takes them on its command line."""
    values: dict[str, str] = {}
    for token in tokens:
        name, separator, value = token.partition(":=")
        if not separator or not name:
            raise LaunchFileError(f"launch argument {token!r} must look like name:=value")
        values[name] = value
    return values


def read_launch_file(path: Path, including: tuple[Path, ...] = ()) -> LaunchFile:
    """Read and validate a launch-YAML file and the files it includes (no substitution yet: that
    needs the arguments). ``including`` holds the files that include this one, to catch cycles."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LaunchFileError(f"{path}: cannot read launch file: {error}") from error
    return parse_launch_text(text, str(path), including)


def parse_launch_text(text: str, source: str, including: tuple[Path, ...] = ()) -> LaunchFile:
    """Validate launch-YAML ``text``; ``source`` names it in error messages and its directory is
    ``$(dirname)``; ``including`` as for ``read_launch_file``."""
    directory = str(Path(source).absolute().parent)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LaunchFileError(f"{source}: invalid YAML: {error}") from error
    if not isinstance(document, dict) or set(document) != {"launch"}:
        raise LaunchFileError(f"{source}: the file must be a mapping with the single key 'launch'")
    entries = document["launch"]
    if not isinstance(entries, list):
        raise LaunchFileError(f"{source}: 'launch' must be a list of entries")

    arguments: list[LaunchArgument] = []
    nodes: list[_NodeEntry | _IncludeEntry] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise LaunchFileError(f"{source}: launch entry #{index} must be a mapping with one tag")
        ((tag, body),) = entry.items()
        where = f"{source}: launch entry #{index} ({tag})"
        if tag == "arg":
            arguments.append(_parse_arg(body, where))
        elif tag == "node":
            nodes.append(_parse_node(body, where))
        elif tag == "include":
            nodes.append(_parse_include(body, where, directory, (*including, _absolute(Path(source)))))
        else:
            raise LaunchFileError(f"{where}: unsupported tag '{tag}'; supported tags: arg, node, include")
    names = [argument.name for argument in arguments]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LaunchFileError(f"{source}: launch argument(s) declared twice: {', '.join(duplicates)}")
    return LaunchFile(source=source, directory=directory, arguments=tuple(arguments), entries=tuple(nodes))


def _parse_include(body: Any, where: str, directory: str, including: tuple[Path, ...]) -> _IncludeEntry:
    """Read the included file now (see the module docstring) and check the ``arg`` names it is given."""
    body = _check_keys(body, INCLUDE_KEYS, {"file"}, where)
    raw_file = _string(body, "file", where) or ""
    if "$(var" in raw_file.replace(" ", ""):
        raise LaunchFileError(f"{where}: 'file' may use $(dirname) but not $(var ...): {raw_file!r}")
    path = _absolute(Path(substitute(raw_file, {}, f"{where} 'file'", directory)))
    if path in including:
        chain = " -> ".join(str(p) for p in (*including[including.index(path) :], path))
        raise LaunchFileError(f"{where}: include cycle: {chain}")
    arguments = []
    for item in _list(body, "arg", where):
        item = _check_keys(item, INCLUDE_ARG_KEYS, {"name", "value"}, f"{where} arg")
        name = _string(item, "name", f"{where} arg")
        arguments.append((name, _string(item, "value", f"{where} arg '{name}'")))
    if not path.is_file():
        raise LaunchFileError(f"{where}: included file {path} does not exist")
    launch_file = read_launch_file(path, including)
    declared = {argument.name for argument in launch_file.all_arguments()}
    unknown = sorted({name for name, _ in arguments} - declared)
    if unknown:
        raise LaunchFileError(
            f"{where}: {path.name} declares no argument(s) {', '.join(unknown)}; "
            f"declared: {', '.join(sorted(declared)) or '(none)'}"
        )
    return _IncludeEntry(where=where, launch_file=launch_file, arguments=tuple(arguments))


def _absolute(path: Path) -> Path:
    """``path`` made absolute and normalised, so that one file has one name in an include chain."""
    return Path(os.path.normpath(path.absolute()))


def _check_keys(body: Any, allowed: frozenset[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise LaunchFileError(f"{where}: expected a mapping of attributes, got {type(body).__name__}")
    unsupported = sorted(set(body) - allowed)
    if unsupported:
        raise LaunchFileError(
            f"{where}: unsupported key(s) {', '.join(map(str, unsupported))}; "
            f"supported: {', '.join(sorted(allowed))}"
        )
    missing = sorted(required - set(body))
    if missing:
        raise LaunchFileError(f"{where}: missing required key(s) {', '.join(missing)}")
    return body


def _string(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise LaunchFileError(
            f"{where}: '{key}' must be a string, got {type(value).__name__} {value!r} (quote it)"
        )
    return value


def _parse_arg(body: Any, where: str) -> LaunchArgument:
    body = _check_keys(body, ARG_KEYS, {"name"}, where)
    name = _string(body, "name", where)
    if not name or not _ROS_NAME.fullmatch(name):
        raise LaunchFileError(f"{where}: invalid argument name {name!r}")
    return LaunchArgument(
        name=name,
        default=_string(body, "default", f"{where} '{name}'"),
        description=_string(body, "description", f"{where} '{name}'") or "",
    )


def _parse_node(body: Any, where: str) -> _NodeEntry:
    if isinstance(body, dict) and isinstance(body.get("name"), str):
        where = f"{where} '{body['name']}'"
    body = _check_keys(body, NODE_KEYS, {"pkg", "exec"}, where)
    attributes = {key: _string(body, key, where) for key in NODE_KEYS - {"param", "remap"} if key in body}
    on_exit = attributes.get("on_exit")
    if on_exit is not None and on_exit not in ON_EXIT_VALUES:
        raise LaunchFileError(f"{where}: on_exit {on_exit!r} not supported; only 'shutdown' is")
    params = []
    params_files: list[str] = []
    for item in _list(body, "param", where):
        if isinstance(item, dict) and "from" in item:
            item = _check_keys(item, PARAM_FILE_KEYS, {"from"}, f"{where} param")
            params_files.append(_string(item, "from", f"{where} param") or "")
            continue
        item = _check_keys(item, PARAM_KEYS, {"name", "value"}, f"{where} param")
        name = _string(item, "name", f"{where} param")
        value = item["value"]
        if parameter_value(value) is None:
            raise LaunchFileError(
                f"{where} param '{name}': value must be a bool, int, float or string, or a non-empty "
                f"list of one of them, got {value!r}"
            )
        params.append((name, parameter_value(value)))
    remaps = []
    for item in _list(body, "remap", where):
        item = _check_keys(item, REMAP_KEYS, {"from", "to"}, f"{where} remap")
        remaps.append((_string(item, "from", f"{where} remap"), _string(item, "to", f"{where} remap")))
    return _NodeEntry(
        where=where,
        attributes=attributes,
        params=tuple(params),
        remaps=tuple(remaps),
        params_files=tuple(params_files),
    )


def _list(body: Mapping[str, Any], key: str, where: str) -> list[Any]:
    items = body.get(key, [])
    if not isinstance(items, list):
        raise LaunchFileError(f"{where}: '{key}' must be a list of mappings")
    return items
