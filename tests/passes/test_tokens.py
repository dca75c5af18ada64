"""Pass tokens: issued by the server, verified offline with only public keys and revocations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from passes import keys as pass_keys
from passes import services
from passes.tables import Pass, PassStatusEvent
from passes.verify import PublicKey, Reason, TokenClaims, decode, encode, verify
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.factories import make_organisation, make_user

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def keyring(tmp_path: Path) -> pass_keys.Keyring:
    return pass_keys.Keyring.from_settings(None, tmp_path, generate=True)


async def _issued_and_keys(
    keyring: pass_keys.Keyring,
) -> tuple[Pass, dict[int, PublicKey], TokenClaims, bytes, bytes]:
    """An agent's pass, the published keys, and its token taken apart."""
    issued = await _agent_pass(keyring)
    claims, header, signature = decode(issued.token)
    return issued, await pass_keys.public_keys(), claims, header, signature


def _with_serial(header: bytes, serial: int) -> bytes:
    """The same signed header naming another serial (a forgery)."""
    return header[:3] + serial.to_bytes(4, "big") + header[7:]


async def _agent_pass(keyring: pass_keys.Keyring) -> Pass:
    await pass_keys.publish(keyring)
    agent = await make_user(Role.AGENT)
    return await services.issue(agent.id, keyring, now=NOW)


async def test_an_issued_token_verifies_offline_and_carries_no_personal_data(
    database_url: str, keyring: pass_keys.Keyring
) -> None:
    issued = await _agent_pass(keyring)

    verdict = verify(issued.token, keys=await pass_keys.public_keys(), now=NOW + timedelta(hours=1))

    assert verdict.admitted, verdict
    assert verdict.serial == issued.serial
    claims, _, _ = decode(issued.token)
    assert (claims.version, claims.key_id) == (1, keyring.current.key_id)
    assert claims.not_before == NOW
    assert len(issued.token) <= 130  # fits a version-8 QR code at level M
    assert issued.token.startswith("TL1:")


async def test_forged_expired_revoked_and_unknown_key_tokens_are_refused(
    database_url: str, keyring: pass_keys.Keyring, tmp_path: Path
) -> None:
    issued, keys, claims, header, signature = await _issued_and_keys(keyring)
    forged_header = _with_serial(header, claims.serial + 1)
    other_ring = pass_keys.Keyring.from_settings(None, tmp_path / "other", generate=True)
    foreign = encode(header, other_ring.current.sign(header))
    unknown_key = encode(b"\x01\x00\x09" + header[3:], signature)

    cases = {
        "forged": verify(encode(forged_header, signature), keys=keys, now=NOW),
        "foreign": verify(foreign, keys=keys, now=NOW),
        "unknown": verify(unknown_key, keys=keys, now=NOW),
        "expired": verify(issued.token, keys=keys, now=NOW + timedelta(days=400)),
        "early": verify(issued.token, keys=keys, now=NOW - timedelta(days=1)),
        "revoked": verify(issued.token, keys=keys, revoked={issued.serial}, now=NOW),
        "suspended": verify(issued.token, keys=keys, suspended={issued.serial}, now=NOW),
        "garbage": verify("hello", keys=keys, now=NOW),
    }

    assert {name: v.reason for name, v in cases.items()} == {
        "forged": Reason.BAD_SIGNATURE,
        "foreign": Reason.BAD_SIGNATURE,
        "unknown": Reason.UNKNOWN_KEY,
        "expired": Reason.EXPIRED,
        "early": Reason.NOT_YET_VALID,
        "revoked": Reason.REVOKED,
        "suspended": Reason.SUSPENDED,
        "garbage": Reason.MALFORMED,
    }


async def test_a_remembered_signature_check_holds_only_for_the_key_it_was_made_with(
    database_url: str, keyring: pass_keys.Keyring, tmp_path: Path
) -> None:
    # The server remembers signature checks (a pass is scanned again and again): the answer
    # must follow the key published under the token's key id, and a forgery repeated stays one.
    issued, keys, claims, header, signature = await _issued_and_keys(keyring)
    impostor = pass_keys.Keyring.from_settings(None, tmp_path / "impostor", generate=True)
    swapped = {
        claims.key_id: replace(keys[claims.key_id], public_key=impostor.current.public_bytes)
    }
    forged = encode(_with_serial(header, claims.serial + 1), signature)

    first = verify(issued.token, keys=keys, now=NOW)
    under_another_key = verify(issued.token, keys=swapped, now=NOW)
    again = verify(issued.token, keys=keys, now=NOW)
    forged_twice = [verify(forged, keys=keys, now=NOW).reason for _ in range(2)]

    assert (first.admitted, under_another_key.reason, again.admitted) == (
        True,
        Reason.BAD_SIGNATURE,
        True,
    )
    assert forged_twice == [Reason.BAD_SIGNATURE, Reason.BAD_SIGNATURE]


async def test_reissue_revokes_the_old_pass_and_feeds_the_change(
    database_url: str, keyring: pass_keys.Keyring
) -> None:
    first = await _agent_pass(keyring)

    second = await services.issue(first.agent, keyring, now=NOW + timedelta(minutes=1))

    assert second.serial != first.serial
    statuses = {p["serial"]: p["status"] for p in await Pass.select(Pass.serial, Pass.status)}
    assert statuses == {first.serial: "revoked", second.serial: "active"}
    changes, cursor = await services.status_changes(0, 100)
    assert [(c.serial, c.status) for c in changes] == [
        (first.serial, "active"),
        (first.serial, "revoked"),
        (second.serial, "active"),
    ]
    later, same_cursor = await services.status_changes(cursor, 100)
    assert later == []
    assert same_cursor == cursor
    assert await PassStatusEvent.count() == 3


async def test_old_passes_stay_valid_after_a_key_rotation(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    ring = pass_keys.Keyring.from_settings(None, tmp_path, generate=True)
    old = await _agent_pass(ring)
    pass_keys.generate_folder_key(tmp_path)
    rotated = pass_keys.Keyring.from_settings(None, tmp_path, generate=False)
    await pass_keys.publish(rotated)
    organisation = await make_organisation()
    other = await make_user(Role.AGENT, organisation=organisation)

    new = await services.issue(other.id, rotated, now=NOW)

    keys = await pass_keys.public_keys()
    assert decode(new.token)[0].key_id == rotated.current.key_id != decode(old.token)[0].key_id
    assert verify(old.token, keys=keys, now=NOW).admitted
    assert verify(new.token, keys=keys, now=NOW).admitted


async def test_an_organisation_admin_suspends_and_resumes_only_their_agents(
    database_url: str, keyring: pass_keys.Keyring
) -> None:
    issued = await _agent_pass(keyring)
    agent = await Pass.select(Pass.agent).where(Pass.serial == issued.serial).first()
    assert agent is not None
    owner = await make_user(Role.AGENT)
    admin_user = await make_user(Role.ORG_ADMIN)
    stranger = Principal(
        role=Role.ORG_ADMIN, user_id=admin_user.id, organisation_id=admin_user.organisation
    )
    network = Principal(role=Role.NETWORK_ADMIN, user_id=owner.id)

    with pytest.raises(services.NotFound):
        await services.change_status(stranger, agent["agent"], "suspended")
    suspended = await services.change_status(network, agent["agent"], "suspended")
    resumed = await services.change_status(network, agent["agent"], "active")

    assert (suspended.status, resumed.status) == ("suspended", "active")
