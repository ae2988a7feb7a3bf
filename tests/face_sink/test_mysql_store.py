"""Database settings: which store a URL names, where the MySQL password comes from, log-safe forms.

The store against a real MariaDB server is tested in ``tests/kafka_bridge/test_mysql_event_store.py``,
next to the server fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from face_common.faces import Box, FaceEvent
from face_sink.mysql_store import (
    PASSWORD_ENV,
    DatabaseUrlError,
    describe_database,
    open_store,
    parse_mysql_url,
    sqlite_path,
)
from face_sink.schema import SQLITE


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("out/events.sqlite", Path("out/events.sqlite")),
        ("/var/lib/faces/events.sqlite", Path("/var/lib/faces/events.sqlite")),
        ("sqlite:///out/events.sqlite", Path("out/events.sqlite")),
        ("sqlite:////var/lib/faces/events.sqlite", Path("/var/lib/faces/events.sqlite")),
        ("mysql://faces@db:3306/faces", None),
    ],
)
def test_sqlite_path_of_a_setting(setting: str, expected: Path | None) -> None:
    assert sqlite_path(setting) == expected


@pytest.mark.parametrize("setting", ["sqlite://", "sqlite:///", "sqlite://host/file"])
def test_malformed_sqlite_urls_are_refused(setting: str) -> None:
    with pytest.raises(DatabaseUrlError, match="sqlite:///"):
        sqlite_path(setting)


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("mysql://faces@db.local/events", {}, ("db.local", 3306, "faces", "", "events", {})),
        (
            "mysql://faces:in%40url@10.0.0.5:3307/events",
            {},
            ("10.0.0.5", 3307, "faces", "in@url", "events", {}),
        ),
        # The environment wins: a URL in a launch file or unit file carries no secret.
        (
            "mysql://faces:in-url@db/events",
            {PASSWORD_ENV: "from-env"},
            ("db", 3306, "faces", "from-env", "events", {}),
        ),
        (
            "mysql://faces@db/events?ssl_ca=/etc/ca.pem&ssl_verify_cert=true&connect_timeout=2",
            {},
            (
                "db",
                3306,
                "faces",
                "",
                "events",
                {"ssl_ca": "/etc/ca.pem", "ssl_verify_cert": True, "connection_timeout": 2},
            ),
        ),
        (
            "mysql://faces@localhost/events?unix_socket=/run/mysqld/mysqld.sock",
            {},
            ("localhost", 3306, "faces", "", "events", {"unix_socket": "/run/mysqld/mysqld.sock"}),
        ),
    ],
)
def test_parse_mysql_url(url: str, env: dict[str, str], expected: tuple) -> None:
    settings = parse_mysql_url(url, env)
    assert (
        settings.host,
        settings.port,
        settings.user,
        settings.password,
        settings.database,
        dict(settings.options),
    ) == expected
    assert "in-url" not in repr(settings) and "from-env" not in repr(settings)
    arguments = settings.connect_arguments()
    assert arguments["autocommit"] is False and arguments["password"] == expected[3]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/events", "mysql://user@host:port/database"),  # no user
        ("mysql://faces@db", "mysql://user@host:port/database"),  # no database
        ("mysql://faces@db/a/b", "mysql://user@host:port/database"),
        ("mysql://faces:secret@db:notaport/events", "bad port"),
        ("mysql://faces@db/events?ssl=1", "unknown database URL option 'ssl'"),
        ("mysql://faces@db/events?ssl_disabled=maybe", "must be true or false"),
        ("mysql://faces@db/events?connect_timeout=soon", "must be seconds"),
    ],
)
def test_bad_mysql_urls_are_refused_without_showing_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError, match=message) as refused:
        parse_mysql_url(url, {})
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("mysql://faces:s3cr%40t@db:3306/events", "mysql://faces:***@db:3306/events"),
        ("mysql://faces@db:3306/events", "mysql://faces@db:3306/events"),
        ("sqlite:///out/events.sqlite", "sqlite:///out/events.sqlite"),
        ("out/events.sqlite", "out/events.sqlite"),
    ],
)
def test_describe_database_hides_the_password(setting: str, shown: str) -> None:
    assert describe_database(setting) == shown


@pytest.mark.parametrize("form", ["{path}", "sqlite:///{path}"])
def test_open_store_opens_sqlite_from_a_path_or_url(tmp_path: Path, form: str) -> None:
    path = tmp_path / "nested" / "events.sqlite"
    event = FaceEvent("cam1", 1_000, 0, 7, 30.0, "female", Box(1, 2, 3, 4), 0.2, True)
    store = open_store(form.format(path=path))
    try:
        assert store.dialect is SQLITE
        assert store.write_events([event]) == 1
    finally:
        store.close()
    reopened = open_store(path)
    try:
        assert reopened.read_events() == [event]
    finally:
        reopened.close()


def test_open_store_refuses_other_schemes() -> None:
    with pytest.raises(DatabaseUrlError, match="postgresql://faces:\\*\\*\\*@db/events"):
        open_store("postgresql://faces:secret@db/events")
