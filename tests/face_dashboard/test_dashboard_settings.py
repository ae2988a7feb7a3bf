"""One typed configuration: defaults, then the file, then FACE_DASHBOARD_* variables, then options;
loopback by default; no token, a short token or a misspelt key stops the server with a clear error."""

from __future__ import annotations

import pytest
from face_dashboard.settings import SettingsError, load_settings

TOKEN = "t" * 16


def test_file_then_environment_then_options(tmp_path):
    config = tmp_path / "dashboard.yaml"
    config.write_text(f"port: 9000\ndatabase: a.sqlite\nstaff_tokens: [{TOKEN}]\n")
    env = {"FACE_DASHBOARD_DATABASE": "b.sqlite", "FACE_DASHBOARD_ADMIN_TOKENS": f"{'a' * 16}, {'b' * 16}"}
    settings = load_settings(config, env, port=9100)
    assert (settings.host, settings.port, settings.database) == ("127.0.0.1", 9100, "b.sqlite")
    assert [t.get_secret_value() for t in settings.admin_tokens] == ["a" * 16, "b" * 16]
    assert TOKEN not in repr(settings)  # secrets stay out of logs


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("port: 9000\n", {}, "no access token"),
        ("staff_tokens: [short]\n", {}, "at least 16 characters"),
        (f"staff_tokens: [{TOKEN}]\nprot: 1\n", {}, "prot: Extra inputs are not permitted"),
        (f"staff_tokens: [{TOKEN}]\n", {"FACE_DASHBOARD_PORT": "0"}, "port: Input should be greater than"),
        (f"staff_tokens: [{TOKEN}]\ndescriptor_backend: nope\n", {}, "descriptor_backend: Value error"),
        ("- a list\n", {}, "must be a mapping"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path, text, env, message):
    config = tmp_path / "dashboard.yaml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings(config, env)
    assert str(config) in str(raised.value)
