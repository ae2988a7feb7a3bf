"""Typed settings of a stage: one dataclass is the single source of each default, description and
range, which nodes declare as ROS parameters (``node_support.declare_settings``) and commands
offer as options (:func:`add_arguments`), so a node and ``face_offline`` can never disagree.

A settings class is a frozen dataclass whose fields are made with :func:`setting`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

Settings = TypeVar("Settings")


def setting(
    default: bool | int | float | str,
    description: str,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] = (),
) -> Any:
    """A dataclass field carrying what a parameter or an option needs to describe itself."""
    metadata = {"description": description, "range": (low, high), "choices": tuple(choices)}
    return dataclasses.field(default=default, metadata=metadata)


def setting_fields(settings_class: type) -> list[dataclasses.Field]:
    """The fields made with :func:`setting`, in declaration order."""
    return [f for f in dataclasses.fields(settings_class) if "description" in f.metadata]


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
    return settings_class(**values, **given)
