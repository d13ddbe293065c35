"""Who may use the web view: the run's token, its own Host and Origin only."""

from __future__ import annotations

import pytest

from bgpemu.web.access import Access, new_token, query_token
from bgpemu.web.protocol import MAX_FRAME, RequestError, parse_request, request_id

ACCESS = Access("s3cret-token", "127.0.0.1", 8179)
OK = "/ws?token=s3cret-token"


def test_tokens_are_random_and_read_from_the_query() -> None:
    assert new_token() != new_token()
    assert len(new_token()) >= 20
    assert query_token("/ws?token=abc&x=1") == "abc"
    assert query_token("/ws") is None


@pytest.mark.parametrize(
    ("path", "host", "origin", "refused"),
    [
        (OK, "127.0.0.1:8179", "http://127.0.0.1:8179", None),
        (OK, "localhost:8179", "http://localhost:8179", None),
        (OK, "127.0.0.1:8179", None, None),  # not a browser: the token is enough
        ("/ws", "127.0.0.1:8179", None, "token"),
        ("/ws?token=wrong", "127.0.0.1:8179", None, "token"),
        ("/ws?token=", "127.0.0.1:8179", None, "token"),
        (OK, "127.0.0.1:8179", "http://evil.example", "Origin"),
        (OK, "127.0.0.1:8179", "http://localhost:8179", "Origin"),  # not the Host reached
        (OK, "127.0.0.1:8179", "null", "Origin"),
        (OK, "evil.example:8179", "http://evil.example:8179", "Host"),  # DNS rebinding
        (OK, "127.0.0.1:9999", "http://127.0.0.1:9999", "Host"),
        (OK, None, None, "Host"),
    ],
)
def test_refusals(path: str, host: str | None, origin: str | None, refused: str | None) -> None:
    reason = ACCESS.refusal(path, host, origin)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


def test_on_a_public_address_any_host_name_but_still_the_token_and_the_origin() -> None:
    access = Access("t", "0.0.0.0", 8179)
    assert access.refusal("/ws?token=t", "lab.example:8179", "http://lab.example:8179") is None
    assert access.refusal("/ws?token=x", "lab.example:8179", None) is not None
    assert access.refusal("/ws?token=t", "lab.example:8179", "http://evil.example") is not None


@pytest.mark.parametrize(
    ("frame", "message", "ident"),
    [
        ("garbage", "not JSON", None),
        ("[" * 60_000, "not JSON", None),
        ("[1]", "JSON object", None),
        ('{"request": "tables"}', "id:", None),
        ('{"id": true, "request": "tables"}', "id:", None),
        ('{"id": -1, "request": "tables"}', "id:", None),
        ('{"id": 3}', "request:", 3),
        ('{"id": 4, "request": 5}', "request:", 4),
        ("x" * (MAX_FRAME + 1), "at most", None),
    ],
)
def test_bad_frames_are_refused_naming_what_is_wrong(
    frame: str, message: str, ident: int | None
) -> None:
    with pytest.raises(RequestError, match=message) as caught:
        parse_request(frame)
    assert request_id(caught.value) == ident


def test_a_good_frame() -> None:
    assert parse_request('{"id": 7, "request": "tables", "node": "a"}') == (
        7,
        {"id": 7, "request": "tables", "node": "a"},
    )
