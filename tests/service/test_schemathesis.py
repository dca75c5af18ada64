"""Property-based run of schemathesis over the OpenAPI document against a real server.

It grows with every endpoint: no 5xx, and every response conforms to the schema.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import auth, make_organisation, make_user, make_venue


async def test_no_server_error_and_no_response_breaking_the_schema(
    live_server: str, settings: Settings, tmp_path: Path
) -> None:
    venue = await make_venue()
    organisation = await make_organisation()
    await make_user(Role.AGENT, organisation=organisation)
    admin = await make_user(Role.NETWORK_ADMIN)
    headers = auth(settings, admin)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_server}/schema/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples",
        "25",
        "--seed",
        "20261124",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path-regex",
        "^/metrics",
        "-H",
        f"Authorization: {headers['Authorization']}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=900)
    output = stdout.decode(errors="replace")[-16000:]
    assert process.returncode == 0, f"schemathesis found problems (venue {venue.id}):\n{output}"
