"""The shared MQTT options (cli/_mqtt_options.py) and a lab's account file
(lab/credentials.py): where credentials come from, and clear errors."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest

from bgpemu.cli._mqtt_options import add_mqtt_options, broker_of, security_options
from bgpemu.lab.credentials import (
    new_lab_account,
    read_lab_account,
    remove_lab_account,
    write_lab_account,
)
from bgpemu.lab.state_files import write_state
from bgpemu.observe.errors import MqttSecurityError, MqttUrlError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_mqtt_options(parser, default="mqtt://127.0.0.1:1883", help="the broker")
    return parser.parse_args(list(argv))


def test_no_options_is_an_anonymous_plain_client() -> None:
    address = broker_of(_args(), "mqtt://h", environ={})
    assert (address.host, address.port, address.tls, address.username) == ("h", 1883, False, None)
    assert security_options(_args()) == []


def test_tls_files_and_credentials_from_options_environment_and_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\nsecond line ignored\n")
    args = _args(
        "--mqtt-ca", "ca.pem", "--mqtt-cert", "c.pem", "--mqtt-key", "k.pem",
        "--mqtt-password-file", str(secret),
    )  # fmt: skip
    env = {"BGPEMU_MQTT_USERNAME": "alice", "BGPEMU_MQTT_PASSWORD": "from-env"}
    address = broker_of(args, "mqtts://h", environ=env)
    assert (address.port, address.ca_file, address.cert_file, address.key_file) == (
        8883,
        os.path.abspath("ca.pem"),
        os.path.abspath("c.pem"),
        os.path.abspath("k.pem"),
    )
    assert (address.username, address.password) == ("alice", "from-file")  # the file wins
    assert broker_of(_args(), "mqtt://h", environ=env).password == "from-env"
    # the option beats the URL, which beats the environment
    assert broker_of(_args("--mqtt-username", "bob"), "mqtt://carol@h", environ=env).username == (
        "bob"
    )
    assert broker_of(_args(), "mqtt://carol@h", environ=env).username == "carol"
    assert security_options(args) == [
        "--mqtt-ca",
        "--mqtt-cert",
        "--mqtt-key",
        "--mqtt-password-file",
    ]


@pytest.mark.parametrize(
    ("argv", "env", "url", "error", "reason"),
    [
        ([], {"BGPEMU_MQTT_PASSWORD": "pw"}, "mqtt://h", MqttSecurityError, "without a user name"),
        (["--mqtt-password-file", "/nonexistent/pw"], {}, "mqtt://u@h", MqttSecurityError,
         "--mqtt-password-file /nonexistent/pw: No such file"),
        (["--mqtt-ca", "ca.pem"], {}, "mqtt://h", MqttUrlError, "use mqtts://"),
        ([], {}, "mqtt://u:pw@h", MqttUrlError, "no password in a URL"),
    ],
)  # fmt: skip
def test_errors_say_what_is_wrong(
    argv: list[str], env: dict[str, str], url: str, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        broker_of(_args(*argv), url, environ=env)


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "pw"
    empty.write_text("\n")
    with pytest.raises(MqttSecurityError, match="the first line is empty"):
        broker_of(_args("--mqtt-password-file", str(empty)), "mqtt://u@h", environ={})


def test_a_password_file_is_read_within_its_limit_and_from_a_pipe(tmp_path: Path) -> None:
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * 70_000)
    with pytest.raises(MqttSecurityError, match=r"huge: larger than 65536 bytes"):
        broker_of(_args("--mqtt-password-file", str(huge)), "mqtt://u@h", environ={})
    crlf = tmp_path / "crlf"
    crlf.write_bytes(b"s3cret\r\nsecond line\n")
    address = broker_of(_args("--mqtt-password-file", str(crlf)), "mqtt://u@h", environ={})
    assert address.password == "s3cret"
    read, write = os.pipe()  # what <(pass show lab) gives
    os.write(write, b"piped\n")
    os.close(write)
    try:
        piped = broker_of(
            _args("--mqtt-password-file", f"/dev/fd/{read}"), "mqtt://u@h", environ={}
        )
    finally:
        os.close(read)
    assert piped.password == "piped"


def test_a_lab_account_is_private_and_only_for_that_running_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BGPEMU_STATE_DIR", str(tmp_path))
    url = "mqtt://127.0.0.1:1883"
    account = new_lab_account("demo")
    assert account != new_lab_account("demo")  # random
    write_lab_account("demo", url, account)
    path = tmp_path / "demo.mqtt-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_lab_account("demo", url) is None  # no such lab running here
    write_state("demo", {"name": "demo", "pid": os.getpid(), "mqtt": url})
    assert read_lab_account("demo", url) == account
    assert read_lab_account("demo", "mqtt://127.0.0.1:1884") is None  # another broker
    path.write_text("[" * 100_000)  # a RecursionError of json.loads escaped
    assert read_lab_account("demo", url) is None
    remove_lab_account("demo")
    assert not path.exists()
    assert read_lab_account("demo", url) is None


def test_security_options_without_a_broker_url_start_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bgpemu.cli import main

    monkeypatch.setenv("BGPEMU_STATE_DIR", str(tmp_path))
    topology = Path(__file__).resolve().parents[2] / "topologies" / "s2s-bgp.yaml"
    assert main(["lab", "up", str(topology), "--mqtt-ca", "ca.pem"]) == 2
    err = capsys.readouterr().err
    assert "--mqtt-ca need --mqtt URL" in err
    assert "nothing was started" in err
    assert list(tmp_path.glob("*.mqtt-credentials")) == []
