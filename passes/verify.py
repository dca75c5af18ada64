"""The offline verifier of Pass Tiers-Lieux tokens: pure Python, no database, no network.

A door device keeps the public keys (`GET /api/v1/passes/keys`) and the revocation list
(`GET /api/v1/passes/revocations`) and calls `verify()`; the server calls the same function
with its own key set and revocation state, so both give the same verdicts. The token
layout is specified in docs/pass-format.md.

Token: "TL1:" + base45( header || signature )
  header (15 bytes, big-endian): version u8 (=1) | key_id u16 | serial u32 |
                                 not_before u32 (unix s) | not_after u32 (unix s)
  signature (64 bytes): Ed25519 over the 15 header bytes.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import base45
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PREFIX = "TL1:"
VERSION = 1
HEADER = struct.Struct(">BHIII")
SIGNATURE_LENGTH = 64
TOKEN_BYTES = HEADER.size + SIGNATURE_LENGTH
# A scanner's clock may be a little off; tolerate it at both ends of the validity.
CLOCK_SKEW_SECONDS = 300


class Reason(StrEnum):
    """Why a token is refused: stable codes shown by scanners and stored with each scan."""

    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    KEY_EXPIRED = "key_expired"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class TokenClaims:
    version: int
    key_id: int
    serial: int
    not_before: datetime
    not_after: datetime

    def header(self) -> bytes:
        return HEADER.pack(
            self.version,
            self.key_id,
            self.serial,
            int(self.not_before.timestamp()),
            int(self.not_after.timestamp()),
        )


@dataclass(frozen=True)
class PublicKey:
    """A verification key as published to devices, with the window in which it signs passes."""

    key_id: int
    public_key: bytes  # raw 32-byte Ed25519 public key
    not_after: datetime | None = None  # passes signed by it are refused after this


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    reason: Reason | None
    claims: TokenClaims | None

    @property
    def serial(self) -> int | None:
        return self.claims.serial if self.claims else None


class MalformedToken(ValueError):
    """The text is not a Pass Tiers-Lieux token at all."""


def encode(header: bytes, signature: bytes) -> str:
    return PREFIX + base45.b45encode(header + signature).decode("ascii")


# The server decodes each token twice (its serial to look up, then the verifier): the second
# is a look-up here. Decoding is pure and its result immutable; failures are not remembered.
@functools.lru_cache(maxsize=1024)
def decode(token: str) -> tuple[TokenClaims, bytes, bytes]:
    """Split a token into its claims, the signed bytes and the signature (no checks of trust)."""
    token = token.strip()
    if not token.startswith(PREFIX):
        raise MalformedToken("missing TL1: prefix")
    try:
        raw = base45.b45decode(token[len(PREFIX) :])
    except (ValueError, KeyError, IndexError) as error:
        raise MalformedToken("not base45") from error
    if len(raw) != TOKEN_BYTES:
        raise MalformedToken(f"{len(raw)} bytes instead of {TOKEN_BYTES}")
    header, signature = raw[: HEADER.size], raw[HEADER.size :]
    version, key_id, serial, not_before, not_after = HEADER.unpack(header)
    claims = TokenClaims(
        version=version,
        key_id=key_id,
        serial=serial,
        not_before=datetime.fromtimestamp(not_before, UTC),
        not_after=datetime.fromtimestamp(not_after, UTC),
    )
    return claims, header, signature


@functools.lru_cache(maxsize=64)
def _ed25519(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


# A pass is scanned again and again (in, out, the next day): its signature check, about a
# tenth of a scan's CPU on the server, is remembered. Ed25519 verification is deterministic,
# so the answer for the same public key, signed bytes and signature never changes: keyed by
# all three, a rotated or withdrawn key never reuses an answer given for another. Bounded:
# a stream of forgeries only pushes older answers out, each costing one check as before.
@functools.lru_cache(maxsize=16_384)
def _signature_valid(public_key: bytes, header: bytes, signature: bytes) -> bool:
    try:
        _ed25519(public_key).verify(signature, header)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(
    token: str,
    *,
    keys: Mapping[int, PublicKey],
    revoked: frozenset[int] | set[int] = frozenset(),
    suspended: frozenset[int] | set[int] = frozenset(),
    now: datetime | None = None,
) -> Verdict:
    """The verdict on a token at `now`, given the trusted keys and the revocation state.

    Order matters and is part of the format: a forged token is reported as such even if
    its serial happens to be revoked.
    """
    now = now or datetime.now(UTC)
    try:
        claims, header, signature = decode(token)
    except MalformedToken:
        return Verdict(False, Reason.MALFORMED, None)
    if claims.version != VERSION:
        return Verdict(False, Reason.UNSUPPORTED_VERSION, claims)
    key = keys.get(claims.key_id)
    if key is None:
        return Verdict(False, Reason.UNKNOWN_KEY, claims)
    if not _signature_valid(key.public_key, header, signature):
        return Verdict(False, Reason.BAD_SIGNATURE, claims)
    if key.not_after is not None and now > key.not_after:
        return Verdict(False, Reason.KEY_EXPIRED, claims)
    stamp = now.timestamp()
    if stamp + CLOCK_SKEW_SECONDS < claims.not_before.timestamp():
        return Verdict(False, Reason.NOT_YET_VALID, claims)
    if stamp - CLOCK_SKEW_SECONDS > claims.not_after.timestamp():
        return Verdict(False, Reason.EXPIRED, claims)
    if claims.serial in revoked:
        return Verdict(False, Reason.REVOKED, claims)
    if claims.serial in suspended:
        return Verdict(False, Reason.SUSPENDED, claims)
    return Verdict(True, None, claims)
