"""Production refuses to start on unsafe settings: the real CLI, its exit code and its one line."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.app.embedded import free_port
from service.kernel.identity import Role
from service.kernel.settings import INSECURE_SECRET, Settings
from tests.factories import make_user
from tests.service.test_cli import _env, run_tierslieux, tierslieux

ROOT = Path(__file__).resolve().parents[2]
PASS_KEY = "1:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _production(
    tmp_path: Path, settings: Settings | None = None, **variables: str
) -> dict[str, str]:
    """A complete production environment: each test takes one thing away or adds one."""
    return _env(
        tmp_path,
        APP_ENV="production",
        DATABASE_URL=settings.database_url if settings else "postgresql://postgres@127.0.0.1:1/x",
        REDIS_URL=settings.redis_url if settings else "redis://127.0.0.1:1/0",
        SECRET_KEY="s" * 48,
        PASS_SIGNING_KEYS=PASS_KEY,
        BASE_URL="https://pass.example.org",
        TRUSTED_PROXIES="127.0.0.1",
        DATABASE_CONNECT_TIMEOUT_MS="300",
        **variables,
    )


def _refused(result: subprocess.CompletedProcess[str], setting: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {setting} "), lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": INSECURE_SECRET}, "SECRET_KEY"),
        ({"PASS_SIGNING_KEYS": ""}, "PASS_SIGNING_KEYS"),
        ({"STRIPE_API_KEY": "sk_live_abc"}, "STRIPE_WEBHOOK_SECRET"),
        ({"TRUSTED_PROXIES": ""}, "TRUSTED_PROXIES"),
        ({"OIDC_CLIENT_ID": "pass-tiers-lieux"}, "OIDC_CLIENT_SECRET"),
        (
            {
                "OIDC_CLIENT_ID": "pass-tiers-lieux",
                "OIDC_CLIENT_SECRET": "s",
                "OIDC_ISSUER": "http://op.example",
            },
            "OIDC_ISSUER",
        ),
    ],
)
def test_an_unsafe_setting_stops_the_process_with_one_line_naming_it(
    tmp_path: Path, command: str, change: dict[str, str], setting: str
) -> None:
    _refused(tierslieux(command, env={**_production(tmp_path), **change}), setting)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_secret_a_demo_generated_is_refused(tmp_path: Path, command: str) -> None:
    """`tierslieux demo` keeps its secret in DATA_DIR; copied into production, it is refused."""
    secret = "d" * 64
    (tmp_path / "secret_key").write_text(secret + "\n")

    result = tierslieux(command, env={**_production(tmp_path), "SECRET_KEY": secret})

    _refused(result, "SECRET_KEY")
    assert "the demo's secret" in result.stderr


def test_stripe_with_its_webhook_secret_and_plain_http_without_proxies_are_accepted(
    tmp_path: Path,
) -> None:
    # Only the settings' check runs: the worker then needs a Redis, which is not there, so it
    # gets past the refusals and fails later, not with exit code 2.
    env = _production(
        tmp_path,
        STRIPE_API_KEY="sk_live_abc",
        STRIPE_WEBHOOK_SECRET="whsec_abc",
    )
    env |= {"BASE_URL": "http://10.0.0.5:8000", "TRUSTED_PROXIES": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "service.app.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        returncode = process.wait(8)
    except subprocess.TimeoutExpired:
        returncode = None  # still running: not refused
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert returncode != 2, output
    assert "must be set" not in output


async def test_a_database_holding_demo_accounts_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    await make_user(Role.NETWORK_ADMIN, email="reseau@demo.test")
    env = _production(tmp_path, settings)

    for command in ("serve", "worker"):
        result = await run_tierslieux(command, env=env)
        _refused(result, "DATABASE_URL")
        assert "1 demo account(s)" in result.stderr


def _healthz_status(env: dict[str, str]) -> int | str:
    """`tierslieux serve` started with `env`: what /healthz answers, or why it stopped."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.2)
        return f"exited {process.poll()}"
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
        if process.returncode not in (0, -signal.SIGTERM):
            print(errors)


async def test_a_clean_production_database_serves(settings: Settings, tmp_path: Path) -> None:
    """The refusals refuse only what they name: the same settings start and answer."""
    await make_user(Role.NETWORK_ADMIN, email="admin@reseau.example.org")

    status = await asyncio.to_thread(_healthz_status, _production(tmp_path, settings))

    assert status == 200
