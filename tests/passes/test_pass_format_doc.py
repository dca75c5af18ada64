"""docs/pass-format.md cannot drift: its test vectors are checked against passes/verify.py."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passes.verify import HEADER, PublicKey, Reason, decode, encode, verify

DOC = Path(__file__).resolve().parents[2] / "docs" / "pass-format.md"


def vectors() -> dict[str, str]:
    rows = re.findall(r"^\| ([^|]+?) \| `([^`]+)`", DOC.read_text(), flags=re.MULTILINE)
    return {name.strip(): value for name, value in rows}


def test_the_documented_vectors_match_the_reference_verifier() -> None:
    v = vectors()
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["seed (private key, hex)"]))
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    header = HEADER.pack(
        1, int(v["key_id"]), int(v["serial"]), int(v["not_before"]), int(v["not_after"])
    )
    keys = {1: PublicKey(1, public)}

    assert public.hex() == v["public key (hex)"]
    assert base64.urlsafe_b64encode(public).decode().rstrip("=") == v["public key (base64url)"]
    assert header.hex() == v["header (hex)"]
    assert encode(header, private.sign(header)) == v["token"]
    assert decode(v["token"])[0].serial == 1000
    assert verify(v["token"], keys=keys, now=datetime(2026, 12, 1, tzinfo=UTC)).admitted
    assert (
        verify(v["token"], keys=keys, now=datetime(2027, 12, 1, tzinfo=UTC)).reason
        == Reason.EXPIRED
    )
    assert (
        verify(v["token"], keys=keys, revoked={1000}, now=datetime(2026, 12, 1, tzinfo=UTC)).reason
        == Reason.REVOKED
    )
    tampered = v["tampered token (serial changed to 1001, same signature)"]
    assert (
        verify(tampered, keys=keys, now=datetime(2026, 12, 1, tzinfo=UTC)).reason
        == Reason.BAD_SIGNATURE
    )
    assert v["verdict on the tampered token"] == Reason.BAD_SIGNATURE.value
