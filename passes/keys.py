"""Signing keys of the pass: where the private keys come from, publishing and caching the public ones.

Production reads private keys from the secret setting PASS_SIGNING_KEYS
(`<key_id>:<base64url raw 32-byte Ed25519 seed>` separated by commas; the highest id
signs new passes). Demo and test generate them under DATA_DIR/pass-keys/. Public keys
are recorded in the `pass_key` table, which devices read through the API.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passes.tables import PassKey
from passes.verify import PublicKey


class KeyConfigurationError(ValueError):
    """PASS_SIGNING_KEYS or the key folder holds something unusable."""


@dataclass(frozen=True)
class SigningKey:
    key_id: int
    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def encode_key(key_id: int, key: Ed25519PrivateKey) -> str:
    """The `<id>:<seed>` form of one entry of PASS_SIGNING_KEYS."""
    return f"{key_id}:{base64.urlsafe_b64encode(_seed(key)).decode().rstrip('=')}"


def parse_keys(setting: str) -> dict[int, SigningKey]:
    keys: dict[int, SigningKey] = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        key_id_text, sep, seed_text = entry.partition(":")
        try:
            key_id = int(key_id_text)
            seed = base64.urlsafe_b64decode(seed_text + "=" * (-len(seed_text) % 4))
            private = Ed25519PrivateKey.from_private_bytes(seed)
        except ValueError:
            raise KeyConfigurationError(
                "PASS_SIGNING_KEYS entries are <key id>:<base64url 32-byte seed>"
            ) from None
        if not sep or not 1 <= key_id <= 65535:
            raise KeyConfigurationError("pass key ids are whole numbers from 1 to 65535")
        keys[key_id] = SigningKey(key_id, private)
    return keys


def _folder(data_dir: Path) -> Path:
    return data_dir / "pass-keys"


def load_folder_keys(data_dir: Path) -> dict[int, SigningKey]:
    folder = _folder(data_dir)
    if not folder.exists():
        return {}
    entries = [p.read_text().strip() for p in sorted(folder.glob("*.key"))]
    return parse_keys(",".join(entries))


def generate_folder_key(data_dir: Path) -> SigningKey:
    """Create the next key in DATA_DIR/pass-keys (readable by the owner only)."""
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    existing = load_folder_keys(data_dir)
    key = SigningKey(max(existing, default=0) + 1, Ed25519PrivateKey.generate())
    path = folder / f"{key.key_id:05d}.key"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(encode_key(key.key_id, key.private_key) + "\n")
    return key


@dataclass
class Keyring:
    """The private keys this process may sign with; the highest id signs new passes."""

    keys: dict[int, SigningKey]

    @property
    def current(self) -> SigningKey:
        if not self.keys:
            raise KeyConfigurationError("no pass signing key is configured")
        return self.keys[max(self.keys)]

    @classmethod
    def from_settings(cls, setting: str | None, data_dir: Path, *, generate: bool) -> Keyring:
        if setting:
            return cls(parse_keys(setting))
        keys = load_folder_keys(data_dir)
        if not keys and generate:
            key = generate_folder_key(data_dir)
            keys = {key.key_id: key}
        return cls(keys)


async def publish(keyring: Keyring) -> None:
    """Record the public half of every private key we hold; retire all but the current one."""
    current = keyring.current.key_id
    for key in keyring.keys.values():
        await PassKey.raw(
            "INSERT INTO pass_key (key_id, public_key, created_at) VALUES ({}, {}, now()) "
            "ON CONFLICT (key_id) DO NOTHING",
            key.key_id,
            key.public_bytes,
        )
    await PassKey.update({PassKey.retired_at: datetime.now(UTC)}).where(
        (PassKey.key_id != current) & PassKey.retired_at.is_null()
    )


async def public_keys() -> dict[int, PublicKey]:
    """Every key a token may have been signed with (retired keys still verify their passes)."""
    rows = await PassKey.select(PassKey.key_id, PassKey.public_key)
    return {r["key_id"]: PublicKey(r["key_id"], bytes(r["public_key"])) for r in rows}


@dataclass(frozen=True)
class PublishedKey:
    """A public key as offline verifiers fetch it."""

    key_id: int
    public_key: bytes
    created_at: datetime
    retired_at: datetime | None


async def published_keys() -> list[PublishedKey]:
    """Every published key, retired ones included, by key id."""
    rows = await PassKey.select(
        PassKey.key_id, PassKey.public_key, PassKey.created_at, PassKey.retired_at
    ).order_by(PassKey.key_id)
    return [
        PublishedKey(r["key_id"], bytes(r["public_key"]), r["created_at"], r["retired_at"])
        for r in rows
    ]


KEY_CACHE_SECONDS = 10.0


class PublicKeyCache:
    """The pass_key table, kept a few seconds per process.

    Correctness does not rest on it: a key id it does not hold (a key published since by
    another process) reloads at once, and published keys never change or disappear.
    """

    def __init__(self, seconds: float = KEY_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._keys: dict[int, PublicKey] = {}
        self._loaded = float("-inf")

    async def get(self, key_id: int | None) -> Mapping[int, PublicKey]:
        stale = time.monotonic() - self._loaded > self.seconds
        if stale or (key_id is not None and key_id not in self._keys):
            self._keys = await public_keys()
            self._loaded = time.monotonic()
        return self._keys
