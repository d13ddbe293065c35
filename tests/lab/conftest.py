"""The real mosquitto fixture of the MQTT tests, shared with the lab tests."""

from tests.observe.conftest import Mosquitto, mosquitto

__all__ = ["Mosquitto", "mosquitto"]
