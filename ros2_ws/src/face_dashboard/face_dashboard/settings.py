"""The dashboard's one typed configuration: defaults here, a YAML file over them, the environment over that.

Access tokens are secrets: they come from the config file (kept out of the repository, like
``config/dashboard.example.yaml``'s copy) or from ``FACE_DASHBOARD_STAFF_TOKENS`` /
``FACE_DASHBOARD_ADMIN_TOKENS`` (comma-separated), never from the command line, which ``ps`` shows.
Every other field can be set from the environment as ``FACE_DASHBOARD_<FIELD>`` too. The server
binds to loopback unless told otherwise: a store's LAN is not a place to expose face data by default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from face_common.erasure import DEFAULT_ERASE_SERVICE
from face_sink.schema import DEFAULT_SQLITE_PATH
from face_sink.visits import DEFAULT_VISIT_GAP_S
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from signage_node.screen import SignageSettings

ENV_PREFIX = "FACE_DASHBOARD_"
MIN_TOKEN_LENGTH = 16
_SIGNAGE = SignageSettings()


class SettingsError(ValueError):
    """A configuration the server cannot start with; the message names the source and the key."""


class DashboardSettings(BaseModel):
    """Everything the server needs; ``extra="forbid"`` turns a misspelt key into an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="address to bind; 0.0.0.0 exposes the dashboard to the LAN")
    port: int = Field(8080, ge=1, le=65535, description="TCP port")
    database: str = Field(
        str(DEFAULT_SQLITE_PATH),
        description="event store: SQLite file, sqlite:///path or mysql://user@host:port/db "
        "(password in $FACE_DB_PASSWORD)",
    )
    visit_gap_s: float = Field(
        DEFAULT_VISIT_GAP_S, ge=0, description="face_report's --visit-gap-s: visits closer than this are one"
    )
    poll_s: float = Field(1.0, gt=0, le=60, description="seconds between checks of the store for new events")
    lookback_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="new events are looked for this far before the newest seen "
        "(a camera whose rows land late is not missed)",
    )
    now_window_s: float = Field(
        300.0, gt=0, description="'customers now': face IDs seen in the last N seconds"
    )
    staff_tokens: list[SecretStr] = Field(default_factory=list, description="tokens that may see the charts")
    admin_tokens: list[SecretStr] = Field(
        default_factory=list, description="tokens that may also see per-ID pages and erase a face ID"
    )
    gallery: Path = Field(Path("out/gallery.sqlite"), description="identity gallery, for erasure")
    crops_dir: Path = Field(Path("out/crops"), description="the sink's crops_dir, for erasure")
    annotated_dir: Path | None = Field(
        None, description="the annotator's annotated_dir, for erasure (None: no frames are saved)"
    )
    erase_service: str = Field(
        DEFAULT_ERASE_SERVICE,
        description="the identity node's erasure service, used while it runs ('' = the gallery file only)",
    )
    descriptor_backend: str = Field(
        DEFAULT_DESCRIPTOR_BACKEND, description="the backend that filled the gallery"
    )
    offers_file: str = Field(
        _SIGNAGE.offers_file, description="signage offer rules (config/offers.example.yaml)"
    )
    min_display_s: float = Field(
        _SIGNAGE.min_display_s, ge=0, description="an offer stays at least this long"
    )
    clear_after_s: float = Field(
        _SIGNAGE.clear_after_s, ge=0, description="the signage screen clears after nobody was seen this long"
    )
    visits_refresh_s: float = Field(
        _SIGNAGE.visits_refresh_s, gt=0, description="seconds between reads of the visits table for loyalty"
    )
    timezone: str = Field(_SIGNAGE.timezone, description="IANA zone of the offer rules' time windows")
    stream_cameras: list[str] = Field(
        default_factory=list,
        description="cameras whose annotated images the page shows live (MJPEG); none: no ROS needed",
    )
    stream_topic: str = Field(
        "/{camera}/image_annotated", description="each stream camera's sensor_msgs/Image topic"
    )
    stream_fps: float = Field(5.0, gt=0, le=30, description="most frames a second encoded per stream")

    @field_validator("stream_topic")
    @classmethod
    def _camera_in_topic(cls, value: str) -> str:
        if "{camera}" not in value:
            raise ValueError("must contain {camera}, e.g. /{camera}/image_annotated")
        return value

    @field_validator("staff_tokens", "admin_tokens")
    @classmethod
    def _long_tokens(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        if any(len(t.get_secret_value()) < MIN_TOKEN_LENGTH for t in tokens):
            raise ValueError(
                f"every token needs at least {MIN_TOKEN_LENGTH} characters (a guessable token is no lock)"
            )
        return tokens

    @field_validator("descriptor_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in DESCRIPTOR_BACKENDS:
            raise ValueError(f"must be one of {', '.join(sorted(DESCRIPTOR_BACKENDS))}")
        return value


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """``FACE_DASHBOARD_<FIELD>`` values; list fields are comma-separated."""
    values: dict[str, Any] = {}
    for name, field in DashboardSettings.model_fields.items():
        text = env.get(ENV_PREFIX + name.upper())
        if text is None:
            continue
        is_list = field.annotation is not None and "list" in str(field.annotation)
        values[name] = [part.strip() for part in text.split(",") if part.strip()] if is_list else text
    return values


def load_settings(
    path: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any
) -> DashboardSettings:
    """Defaults, then the YAML file, then the environment, then ``overrides`` (command-line options)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise SettingsError(f"{path}: cannot read: {err}") from None
        if not isinstance(document, dict):
            raise SettingsError(f"{path}: must be a mapping of settings, got {type(document).__name__}")
        values.update(document)
    values.update(_from_env(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = DashboardSettings(**values)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise SettingsError(f"{source} (and {ENV_PREFIX}* variables): {problems}") from None
    if not settings.staff_tokens and not settings.admin_tokens:
        raise SettingsError(
            f"{source}: no access token: set {ENV_PREFIX}STAFF_TOKENS / {ENV_PREFIX}ADMIN_TOKENS or "
            "staff_tokens / admin_tokens in the config file (the dashboard never runs open)"
        )
    return settings
