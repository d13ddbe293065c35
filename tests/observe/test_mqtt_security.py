"""MQTT security against a real mosquitto and through the real CLI: TLS (``mqtts://``
with a generated CA), a password file and the ACL of docs/mqtt.md ("Security").

One lab runs over TLS with its own account: it publishes and converges; an anonymous
client may read it but its control message never reaches the lab; the operator's does
(``bgpemu withdraw`` with the operator's credentials from the environment and a file);
an observer command reads over TLS.  A wrong CA, a wrong password or a password in the
URL exit with status 2 and a message naming the broker and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest

from bgpemu.observe.errors import BrokerRefusedError, MqttSecurityError
from bgpemu.observe.mqtt.connect import check_broker, tls_context
from bgpemu.observe.payloads import control_payload
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url
from tests.cli_process import ROOT, bgpemu_env, run_bgpemu, stop_process
from tests.helpers import free_port
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto
from tests.observe.security import Pki, make_pki, password_file

TOPOLOGY = ROOT / "topologies" / "s2s-bgp.yaml"
LAB = "secured"
WAIT = 60.0
USERS = {"lab": "lab-secret", "operator": "operator-secret"}
pytestmark = pytest.mark.integration

ACL = """\
# anonymous clients (lines before any 'user'): read only
topic read bgpemu/v1/#

user lab
topic read bgpemu/v1/#
topic write bgpemu/v1/+/state
topic write bgpemu/v1/+/events
topic write bgpemu/v1/+/nodes/#
topic write bgpemu/v1/+/topology
topic write bgpemu/v1/+/traffic/#

user operator
topic read bgpemu/v1/#
topic write bgpemu/v1/+/control
"""

NO_TOPOLOGY_ACL = ACL.replace("topic write bgpemu/v1/+/topology\n", "")
"""The ACL as documented before 5111637: the lab's account may not write its topology."""


class SecureMosquitto(Mosquitto):
    """mosquitto with a password file and ACL, on a plain and a TLS listener."""

    def __init__(self, binary: str, workdir: Path, pki: Pki, acl_text: str = ACL) -> None:
        super().__init__(binary, workdir)
        self.tls_port = free_port("127.0.0.1")
        self.mutual_port = free_port("127.0.0.1")
        passwords = password_file(workdir / "passwd", USERS)
        acl = workdir / "acl"
        acl.write_text(acl_text)
        self.config.write_text(
            f"user {getpass.getuser()}\n"  # run as root, it would drop to 'mosquitto'
            "per_listener_settings false\n"
            "allow_anonymous true\n"
            f"password_file {passwords}\n"
            f"acl_file {acl}\n"
            "persistence false\n"
            "max_queued_messages 0\n"
            f"listener {self.port} 127.0.0.1\n"
            f"listener {self.tls_port} 127.0.0.1\n"
            f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
            f"listener {self.mutual_port} 127.0.0.1\n"  # TLS with client certificates
            f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
            "require_certificate true\n"
        )

    @property
    def listeners(self) -> tuple[int, ...]:
        return (self.port, self.tls_port, self.mutual_port)

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def broker(tmp_path: Path, pki: Pki) -> Iterator[SecureMosquitto]:
    running = SecureMosquitto(require_binary("mosquitto"), tmp_path, pki)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def secured_lab(
    broker: SecureMosquitto, pki: Pki, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``lab up`` over TLS with the lab's account (user from the environment, password
    from a file), until converged."""
    async with _lab_up(broker, pki, tmp_path) as process:
        yield process


@contextlib.asynccontextmanager
async def _lab_up(
    broker: SecureMosquitto, pki: Pki, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The lab of :func:`secured_lab`, on ``broker``."""
    secret = tmp_path / "lab-password"
    secret.write_text(USERS["lab"] + "\n")
    env = bgpemu_env(tmp_path / "state", BGPEMU_MQTT_USERNAME="lab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "lab", "up", str(TOPOLOGY), "--name", LAB,
        "--processes", "1", "--port", str(free_port("127.0.10.1")), "--timers", "lab",
        "--mqtt", broker.tls_url, "--mqtt-ca", str(pki.ca),
        "--mqtt-password-file", str(secret),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(WAIT):
            summary = json.loads(await process.stdout.readline())
        assert summary["converged"] is True
        yield process
    finally:
        await stop_process(process)


def _client(
    broker: SecureMosquitto, pki: Pki, username: str | None = None, password: str | None = None
) -> aiomqtt.Client:
    address = BrokerAddress(host="127.0.0.1", port=broker.tls_port, tls=True, ca_file=str(pki.ca))
    return aiomqtt.Client(
        "127.0.0.1",
        broker.tls_port,
        tls_context=tls_context(address),
        username=username,
        password=password,
    )


async def _answers(events: aiomqtt.Client, request: str) -> list[dict[str, object]]:
    """The lab's events answering ``request``, up to its ``converged`` or ``rejected``;
    every other answer seen on the way is returned too (as a failure to look for)."""
    seen: list[dict[str, object]] = []
    async with asyncio.timeout(WAIT):
        async for message in events.messages:
            assert isinstance(message.payload, bytes)
            doc = json.loads(message.payload)
            if "request" not in doc:
                continue
            seen.append(doc)
            if doc["request"] == request and doc["event"] in ("converged", "rejected"):
                return seen
    raise AssertionError("event iteration ended")


async def _withdraw_as_operator(broker: SecureMosquitto, pki: Pki, tmp_path: Path) -> list[str]:
    """``bgpemu withdraw`` with the operator's credentials: the events of its answers."""
    secret = tmp_path / "operator-password"
    secret.write_text(USERS["operator"])
    rc, out, err = await run_bgpemu(
        "withdraw", "Site5", "10.51.0.0/16", "--lab", LAB, "--mqtt", broker.tls_url,
        "--mqtt-ca", str(pki.ca), "--mqtt-password-file", str(secret), "-o", "json",
        # what is checked is the ACL, not how fast a loaded CI machine answers (5 s)
        "--answer-timeout", "60",
        env=bgpemu_env(tmp_path / "state", BGPEMU_MQTT_USERNAME="operator"),
    )  # fmt: skip
    assert rc == 0, err
    return [json.loads(line)["event"] for line in out.splitlines()]


async def test_a_topic_the_labs_account_may_not_write_does_not_wedge_the_lab(
    pki: Pki, tmp_path: Path
) -> None:
    """mosquitto cuts the lab's connection at each refused topology document; the lab
    still answers the operator and says, once, which topic to grant (5111637)."""
    broker = SecureMosquitto(require_binary("mosquitto"), tmp_path, pki, NO_TOPOLOGY_ACL)
    broker.start()
    try:
        async with _lab_up(broker, pki, tmp_path) as lab:
            assert await _withdraw_as_operator(broker, pki, tmp_path) == [
                "injected",
                "converged",
            ]
            assert lab.returncode is None  # nothing crashed the lab
            lab.terminate()
            async with asyncio.timeout(WAIT):
                err = (await lab.communicate())[1].decode()
    finally:
        broker.stop()
    refusals = [line for line in err.splitlines() if " refused " in line]
    assert len(refusals) == 1, err
    assert f"bgpemu/v1/{LAB}/topology" in refusals[0]
    assert "user 'lab'" in refusals[0]
    assert "Traceback" not in err


async def test_only_the_operator_controls_a_lab_on_a_secured_broker(
    broker: SecureMosquitto, pki: Pki, tmp_path: Path, secured_lab: asyncio.subprocess.Process
) -> None:
    topics = f"bgpemu/v1/{LAB}"
    async with _client(broker, pki) as anonymous, _client(broker, pki) as events:
        await events.subscribe(f"{topics}/events", qos=1)
        # anonymous clients read the lab (the ACL's first line) ...
        rc, out, err = await run_bgpemu(
            "sessions", "--lab", LAB, "--mqtt", broker.tls_url, "--mqtt-ca", str(pki.ca),
            "-o", "json", env=bgpemu_env(tmp_path / "state"),
        )  # fmt: skip
        assert rc == 0, err
        assert {s["state"] for v in json.loads(out).values() for s in v} == {"Established"}
        # ... but their control message never reaches it (mosquitto acknowledges and drops)
        forged = control_payload(uuid.uuid4().hex, "crash", node="Site5")
        await anonymous.publish(f"{topics}/control", json.dumps(forged), qos=1)
        # the lab's account may not send control either (the ACL gives it to the operator)
        async with _client(broker, pki, username="lab", password=USERS["lab"]) as lab_account:
            lab_forged = control_payload(uuid.uuid4().hex, "crash", node="VNet1GW")
            await lab_account.publish(f"{topics}/control", json.dumps(lab_forged), qos=1)
        # the operator's does, through the CLI (user from the environment, password in a file)
        secret = tmp_path / "operator-password"
        secret.write_text(USERS["operator"])
        rc, out, err = await run_bgpemu(
            "withdraw", "Site5", "10.51.0.0/16", "--lab", LAB, "--mqtt", broker.tls_url,
            "--mqtt-ca", str(pki.ca), "--mqtt-password-file", str(secret), "-o", "json",
            # what is checked is the ACL, not how fast a loaded CI machine answers (5 s)
            "--answer-timeout", "60",
            env=bgpemu_env(tmp_path / "state", BGPEMU_MQTT_USERNAME="operator"),
        )  # fmt: skip
        assert rc == 0, err
        answers = [json.loads(line) for line in out.splitlines()]
        assert [a["event"] for a in answers] == ["injected", "converged"]
        seen = await _answers(events, answers[-1]["request"])
        assert {doc["request"] for doc in seen} == {answers[-1]["request"]}
    assert secured_lab.returncode is None  # nothing crashed the lab


@pytest.mark.parametrize(
    ("options", "env_extra", "expected"),
    [
        (["--mqtt-ca", "{other_ca}"], {}, r"MQTT broker {tls}: TLS handshake failed: .*CA file"),
        (["--mqtt-ca", "{missing}"], {}, r"{tls}: cannot use the CA file {missing}: No such"),
        ([], {}, r"MQTT broker {tls}: TLS handshake failed: .*CERTIFICATE_VERIFY_FAILED"),
        (
            ["--mqtt-ca", "{ca}"],
            {"BGPEMU_MQTT_USERNAME": "lab", "BGPEMU_MQTT_PASSWORD": "wrong"},
            r"MQTT broker {tls}: the broker refused user 'lab': not authorised",
        ),
    ],
    ids=["wrong-ca", "missing-ca", "no-ca", "wrong-password"],
)
def test_tls_and_credential_errors_are_named_and_exit_2(
    broker: SecureMosquitto,
    pki: Pki,
    tmp_path: Path,
    options: list[str],
    env_extra: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bgpemu.cli import main

    names = {
        "ca": str(pki.ca),
        "other_ca": str(pki.other_ca),
        "missing": str(tmp_path / "missing.pem"),
        "tls": broker.tls_url,
    }
    args = [option.format(**names) for option in options]
    pattern = expected.format(**{k: re.escape(v) for k, v in names.items()})
    for name, value in bgpemu_env(tmp_path / "state", **env_extra).items():
        if name.startswith("BGPEMU_"):
            monkeypatch.setenv(name, value)
    for command in (
        ["lab", "up", str(TOPOLOGY), "--exit-after-converged"],
        ["sessions", "--timeout", "10"],
        ["withdraw", "Site5", "10.51.0.0/16", "--lab", LAB, "--timeout", "10"],
    ):
        assert main([*command, "--mqtt", broker.tls_url, *args]) == 2, command
        err = capsys.readouterr().err
        assert re.search(pattern, err), (command, err)
        assert "Traceback" not in err
        assert "wrong" not in err.replace("wrong-", "")  # the password is never shown


async def test_a_client_certificate_is_offered_when_given(
    broker: SecureMosquitto, pki: Pki
) -> None:
    url = f"mqtts://127.0.0.1:{broker.mutual_port}"
    with_cert = parse_mqtt_url(url).with_tls_files(
        str(pki.ca), str(pki.client_cert), str(pki.client_key)
    )
    assert await check_broker(with_cert, timeout=WAIT) == with_cert
    without = parse_mqtt_url(url).with_tls_files(str(pki.ca), None, None)
    with pytest.raises(BrokerRefusedError, match=f"MQTT broker {url}: TLS handshake failed"):
        await check_broker(without, timeout=WAIT)
    wrong_key = parse_mqtt_url(url).with_tls_files(
        str(pki.ca), str(pki.client_cert), str(pki.server_key)
    )
    with pytest.raises(MqttSecurityError, match="cannot use the client certificate"):
        await check_broker(wrong_key, timeout=WAIT)


async def test_a_password_in_the_url_is_refused_before_anything_starts(
    broker: SecureMosquitto, tmp_path: Path
) -> None:
    url = f"mqtt://lab:{USERS['lab']}@127.0.0.1:{broker.port}"
    rc, _, err = await run_bgpemu(
        "lab", "up", str(TOPOLOGY), "--mqtt", url, env=bgpemu_env(tmp_path / "state")
    )
    assert rc == 2
    assert USERS["lab"] not in err
    assert "BGPEMU_MQTT_PASSWORD" in err
    assert "nothing was started" in err
