"""Which address a request comes from, and when X-Forwarded-For may be believed."""

from __future__ import annotations

import pytest

from service.kernel.addresses import parse_networks, resolve
from service.kernel.settings import SettingsError, load

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:1::/48")


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert resolve("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_name_another_client() -> None:
    assert resolve("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"


def test_the_right_most_untrusted_address_is_the_client() -> None:
    header = ["6.6.6.6, 198.51.100.1", "10.0.0.9"]
    assert resolve("10.0.0.2", header, PROXIES) == "198.51.100.1"


def test_a_trusted_proxy_with_no_header_is_the_client() -> None:
    assert resolve("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_garbage_in_the_header_stops_at_the_last_trusted_hop() -> None:
    assert resolve("10.0.0.2", ["198.51.100.1, not-an-address"], PROXIES) == "10.0.0.2"


def test_ports_and_brackets_are_understood() -> None:
    assert resolve("10.0.0.2", ["198.51.100.1:5100"], PROXIES) == "198.51.100.1"
    assert resolve("2001:db8:1::5", ["[2001:db8:9::1]:443"], PROXIES) == "2001:db8:9::1"


def test_trusted_proxies_are_read_from_the_environment() -> None:
    settings = load({"APP_ENV": "test", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7"})
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.168.1.7/32"]
    assert load({"APP_ENV": "test"}).trusted_proxies == ()


def test_a_bad_trusted_proxy_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        load({"APP_ENV": "test", "TRUSTED_PROXIES": "10.0.0.0/33"})
