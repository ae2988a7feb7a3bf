from pathlib import Path

import pytest
from kafka_bridge.connection import ConnectionConfigError, client_config, describe, read_properties

PROPERTIES = """\
# production cluster
bootstrap.servers=kafka-1:9093,kafka-2:9093
security.protocol = SASL_SSL
sasl.mechanism: SCRAM-SHA-512
sasl.username=store-42
sasl.password=from-file
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "client.properties"
    path.write_text(PROPERTIES)
    return path


def test_properties_file_is_read_as_librdkafka_settings(config_file: Path) -> None:
    assert read_properties(config_file) == {
        "bootstrap.servers": "kafka-1:9093,kafka-2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "store-42",
        "sasl.password": "from-file",
    }


@pytest.mark.parametrize(
    ("parameter", "env", "expected"),
    [
        ("", {}, {"bootstrap.servers": "kafka-1:9093,kafka-2:9093", "sasl.password": "from-file"}),
        ("", {"KAFKA_CLIENT_SASL_PASSWORD": "from-env"}, {"sasl.password": "from-env"}),
        ("", {"KAFKA_BOOTSTRAP_SERVERS": "env:9092"}, {"bootstrap.servers": "env:9092"}),
        ("param:9092", {"KAFKA_BOOTSTRAP_SERVERS": "env:9092"}, {"bootstrap.servers": "param:9092"}),
        ("", {"KAFKA_HOME": "/opt/kafka", "KAFKA_OPTS": "-Xmx1g"}, {"sasl.username": "store-42"}),
    ],
)
def test_precedence_file_then_env_then_parameter(
    config_file: Path, parameter: str, env: dict[str, str], expected: dict[str, str]
) -> None:
    settings = client_config(parameter, "", {"KAFKA_CONFIG_FILE": str(config_file), **env})
    assert expected.items() <= settings.items()
    assert not any(name.startswith(("home", "opts")) for name in settings)


def test_parameter_file_wins_over_env_file(config_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.properties"
    other.write_text("bootstrap.servers=other:9092\n")
    settings = client_config("", str(other), {"KAFKA_CONFIG_FILE": str(config_file)})
    assert settings == {"bootstrap.servers": "other:9092"}


@pytest.mark.parametrize(
    ("file_text", "message"),
    [
        (None, "cannot read Kafka config file"),
        ("just-a-name\n", "expected name=value"),
        ("security.protocol=SSL\n", "no Kafka brokers"),
    ],
)
def test_unusable_settings_are_clear_errors(tmp_path: Path, file_text: str | None, message: str) -> None:
    path = tmp_path / "client.properties"
    if file_text is not None:
        path.write_text(file_text)
    with pytest.raises(ConnectionConfigError, match=message):
        client_config("", str(path), {})


def test_describe_never_shows_credentials(config_file: Path) -> None:
    text = describe(client_config("", str(config_file), {"KAFKA_CLIENT_SSL_KEY_PASSWORD": "k3y"}))
    assert text == (
        "bootstrap.servers=kafka-1:9093,kafka-2:9093, security.protocol=SASL_SSL, "
        "sasl.mechanism=SCRAM-SHA-512"
    )
    assert "from-file" not in text and "k3y" not in text and "store-42" not in text
