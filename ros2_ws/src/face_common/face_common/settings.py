"""Typed settings of a stage: one dataclass is the single source of each default, description and
range, which nodes declare as ROS parameters (``graph_node.declare_settings``) and commands
offer as options (:func:`add_arguments`), so a node and ``face_offline`` can never disagree.

A settings class is a frozen dataclass whose fields are made with :func:`setting`; a node's
settings may extend a stage's with what only the node needs (a subclass).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

Settings = TypeVar("Settings")
Value = bool | int | float | str | tuple[str, ...]
"""What a setting holds: a ROS parameter's scalar types, or a list of strings (as a tuple: frozen)."""


def setting(
    default: Value,
    description: str,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] = (),
    any_type: bool = False,
) -> Any:
    """A dataclass field carrying what a parameter or an option needs to describe itself.

    ``any_type``: the ROS parameter accepts any type (``source:=0`` is a device number, read by
    ROS as an integer); the setting holds it as text.
    """
    metadata = {
        "description": description,
        "range": (low, high),
        "choices": tuple(choices),
        "any_type": any_type,
    }
    return dataclasses.field(default=default, metadata=metadata)


def setting_fields(settings_class: type) -> list[dataclasses.Field]:
    """The fields made with :func:`setting`, in declaration order."""
    return [f for f in dataclasses.fields(settings_class) if "description" in f.metadata]


def settings_problems(settings: object) -> list[str]:
    """Each value outside its range or choices, named: ROS checks neither at start-up."""
    problems = []
    for f in setting_fields(type(settings)):
        value = getattr(settings, f.name)
        low, high = f.metadata["range"]
        if low is not None and not low <= value <= high:
            problems.append(f"{f.name}={value} is outside [{low:g}, {high:g}]")
        if f.metadata["choices"] and value not in f.metadata["choices"]:
            problems.append(f"{f.name}={value!r} is not one of {', '.join(f.metadata['choices'])}")
    return problems


def checked(settings: Settings) -> Settings:
    """``settings`` if every value is in its range and choices, else a ValueError naming each."""
    problems = settings_problems(settings)
    if problems:
        raise ValueError(f"invalid {type(settings).__name__}: {'; '.join(problems)}")
    return settings


def add_arguments(
    parser: argparse.ArgumentParser,
    settings_class: type,
    exclude: Collection[str] = (),
    options: Mapping[str, str] | None = None,
) -> None:
    """One ``--name`` option per setting (``_`` as ``-``), with its default, type and help.

    ``options`` names some settings' options otherwise (``{"num_threads": "--threads"}``); the
    parsed value keeps the setting's name, so :func:`from_arguments` finds it.
    """
    for f in setting_fields(settings_class):
        if f.name in exclude:
            continue
        option = (options or {}).get(f.name, "--" + f.name.replace("_", "-"))
        help_text = f"{f.metadata['description']} (default: {f.default})"
        if isinstance(f.default, bool):
            parser.add_argument(
                option, action=argparse.BooleanOptionalAction, dest=f.name, default=f.default, help=help_text
            )
        elif isinstance(f.default, tuple):
            parser.add_argument(option, dest=f.name, nargs="*", default=f.default, help=help_text)
        else:
            parser.add_argument(
                option,
                dest=f.name,
                type=type(f.default),
                default=f.default,
                choices=f.metadata["choices"] or None,
                help=help_text,
            )


def from_arguments(args: argparse.Namespace, settings_class: type[Settings], **given: object) -> Settings:
    """The settings the parsed options name; ``given`` fills the excluded ones."""
    values = {f.name: getattr(args, f.name) for f in setting_fields(settings_class) if f.name not in given}
    return checked(settings_class(**values, **given))


def typed_value(field: dataclasses.Field, value: object) -> Value:
    """A parameter's value as the setting holds it: lists as tuples, any-type values as text."""
    if isinstance(field.default, tuple):
        return tuple(value)
    if field.metadata["any_type"]:
        return str(value)
    return value
