"""Sign-in with an OpenID provider whose host is stuck: the provider runs in a process of its
own, frozen with SIGSTOP. Its kernel still accepts the connection, then nothing answers (not
even the TLS handshake): the sign-in must end on a page within OIDC_TIMEOUT_MS, create
nothing, and work again once the provider is thawed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from booking.tables import User, UserSession
from service.kernel.settings import Settings
from tests.oidc_provider import signing_in_with
from web.controllers.provider_sign_in import CALLBACK_PATH

pytestmark = pytest.mark.faults

BASE = "http://testserver.local"


@dataclass
class ProviderProcess:
    process: subprocess.Popen[str]
    issuer: str
    ca_file: str

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def op(tmp_path: Path) -> Iterator[ProviderProcess]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.oidc_provider",
            str(tmp_path),
            f"{BASE}{CALLBACK_PATH}",
            f"{BASE}/?signed_out=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    provider: ProviderProcess | None = None
    try:
        assert process.stdout is not None
        issuer, ca_file = process.stdout.readline().split()
        provider = ProviderProcess(process, issuer, ca_file)
        yield provider
    finally:
        if provider is not None:
            provider.thaw()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def settings(settings: Settings, op: ProviderProcess) -> Settings:
    return signing_in_with(settings, op.issuer, op.ca_file)


async def _timed_start(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await client.get("/signin/oidc")
    return answer, time.monotonic() - started


async def test_a_frozen_provider_gets_a_clear_page_in_time_then_works_again(
    client: httpx.AsyncClient, op: ProviderProcess
) -> None:
    op.freeze()
    try:
        # Nothing is known of the provider yet: its discovery document is the first call.
        refused, took = await _timed_start(client)
        assert refused.status_code == 503, refused.text
        assert "pas répondu" in refused.text
        assert took < 3.0, f"a frozen provider held the sign-in {took:.1f} s"
    finally:
        op.thaw()

    started, _ = await _timed_start(client)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(f"{op.issuer}/authorize?")


async def test_a_provider_frozen_after_discovery_holds_the_code_exchange_no_longer(
    client: httpx.AsyncClient, op: ProviderProcess
) -> None:
    started, _ = await _timed_start(client)  # discovery made and cached
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=op.ca_file)) as browser:
        form = await browser.get(location)
        assert form.status_code == 200, form.text
        back = await browser.post(
            f"{op.issuer}/authorize", data={"query": location.partition("?")[2], "user": "camille"}
        )
    assert back.status_code == 303, back.text
    parts = urlsplit(back.headers["location"])

    op.freeze()
    try:
        began = time.monotonic()
        refused = await client.get(f"{parts.path}?{parts.query}")
        took = time.monotonic() - began
    finally:
        op.thaw()

    assert refused.status_code == 503, refused.text
    assert "pas répondu" in refused.text
    assert took < 3.0, f"a frozen provider held the code exchange {took:.1f} s"
    assert await User.count() == 0
    assert await UserSession.count() == 0
