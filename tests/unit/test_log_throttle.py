"""The log throttle shared by the refused-connection and RFC 7606 §6 log lines."""

from bgpemu.runtime.throttle import LogThrottle


def test_first_event_is_logged_and_later_ones_are_counted_until_the_interval() -> None:
    throttle = LogThrottle(10.0)
    assert throttle.allow(0.0) == 0
    assert throttle.allow(1.0) is None
    assert throttle.allow(9.9) is None
    assert throttle.held == 2
    assert throttle.allow(10.0) == 2
    assert throttle.held == 0
    assert throttle.allow(15.0) is None
    assert throttle.allow(30.0) == 1
