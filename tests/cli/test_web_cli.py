"""``bgpemu web`` refuses what it cannot serve: exit 2 and one line naming why, nothing
listening (docs/web.md, "Running it")."""

from __future__ import annotations

import pytest

from bgpemu.cli import main
from tests.helpers import free_port


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("8179", "--listen '8179': ADDR:PORT expected"),
        ("127.0.0.1:http", "the port must be 0 to 65535"),
        ("127.0.0.1:70000", "the port must be 0 to 65535"),
    ],
)
def test_a_bad_listen_address_is_refused(
    listen: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["web", "--listen", listen, "--mqtt", "mqtt://127.0.0.1:1"]) == 2
    assert message in capsys.readouterr().err


def test_no_broker_is_refused_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    assert main(["web", "--mqtt", url, "--timeout", "2", "--listen", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert url in err
