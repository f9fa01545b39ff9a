"""Signed checkpoints: the journal's head, anchored outside the database.

The hash chain shows that no entry changed after it was chained, but whoever can write to
the database can recompute the chain from any point, or cut its last entries, and the
result chains just as well. A checkpoint records the number of entries, the hash of the
last one and the time, signed by the fund with an Ed25519 key that is kept outside the
database. Anyone may keep checkpoints (witnesses: partners, auditors, residents who
download them with the published journal). Later, ``carepool ledger verify --checkpoint``
proves that the journal now still holds exactly those entries: a journal rewritten or cut
short before the checkpoint no longer has the checkpoint's hash at the checkpoint's entry.
This is the model of Certificate Transparency logs (RFC 6962): a log is trusted because
outsiders hold signed heads it must stay consistent with. docs/ledger.md says what it
defeats and what it does not.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from carepool.errors import ConfigError, LedgerError
from carepool.ledger.records.chain import canonical, sha256

FORMAT = "carepool-checkpoint"
#: The most entries a journal can have (its sequence numbers are 64-bit integers).
MAX_ENTRIES = 2**63 - 1
HEX64 = re.compile(r"[0-9a-f]{64}")
#: A checkpoint file is a few hundred bytes; anything far bigger is not one.
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: fund ``fund``'s journal had ``entries`` entries, the last with
    hash ``head``, at ``time``; ``key`` names the public key that signed it."""

    fund: str
    entries: int
    head: str
    time: str
    key: str
    signature: str

    def statement(self) -> bytes:
        """The bytes signed: everything but the signature, as canonical JSON."""
        return _statement(self.fund, self.entries, self.head, self.time, self.key)

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, **asdict(self)}


def _statement(fund: str, entries: int, head: str, time: str, key: str) -> bytes:
    body = {"format": FORMAT, "fund": fund, "entries": entries, "head": head, "time": time}
    return canonical({**body, "key": key}).encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    """The public key's fingerprint: sha256 of its raw 32 bytes, as hex."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256(raw.hex())


def sign(private: Ed25519PrivateKey, fund: str, entries: int, head: str, time: str) -> Checkpoint:
    key = key_id(private.public_key())
    signature = private.sign(_statement(fund, entries, head, time, key))
    return Checkpoint(fund, entries, head, time, key, signature.hex())


def check_signature(checkpoint: Checkpoint, public: Ed25519PublicKey) -> None:
    """Raise :class:`LedgerError` unless ``public`` signed ``checkpoint``."""
    if checkpoint.key != key_id(public):
        raise LedgerError(
            f"the checkpoint was signed by key {checkpoint.key[:16]}…, not by the fund's "
            f"key {key_id(public)[:16]}…"
        )
    try:
        public.verify(bytes.fromhex(checkpoint.signature), checkpoint.statement())
    except (InvalidSignature, ValueError):
        raise LedgerError("the checkpoint's signature is not valid: it was altered") from None


# -- files ----------------------------------------------------------------------------------


def write_keys(directory: Path) -> tuple[Path, Path]:
    """A new Ed25519 key pair in ``directory``: ``checkpoint.key`` (private, readable by its
    owner only) and ``checkpoint.pub`` (public: publish it). Refuses to overwrite a key, and
    makes ``directory`` only if its parent folder exists."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is a file; --out names the folder to keep the keys in")
    if not directory.parent.is_dir():
        raise ConfigError(f"there is no folder {directory.parent}; create it first")
    try:
        directory.mkdir(exist_ok=True)  # the folder asked for, never a tree of them
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot make the folder: {exc.strerror or exc}") from None
    private_path, public_path = directory / "checkpoint.key", directory / "checkpoint.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise ConfigError(f"{path}: a key is already there; keys are never overwritten")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "private key"), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{path}: not a PEM private key without a password") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: expected an Ed25519 private key")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except (ValueError, TypeError):
        raise ConfigError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: expected an Ed25519 public key")
    return key


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> None:
    path.write_text(canonical(checkpoint.as_dict()) + "\n", encoding="utf-8")


def read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint file, every fault named (checked before any signature is)."""
    try:
        data = json.loads(_read(path, "checkpoint"))
    except (ValueError, RecursionError):  # not JSON, not UTF-8, absurd numbers, deep nesting
        raise ConfigError(f"{path}: not a checkpoint (expected a small JSON object)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a carepool checkpoint")
    texts = ("fund", "head", "time", "key", "signature")
    for name in texts:
        if not isinstance(data.get(name), str):
            raise ConfigError(f"{path}: {name}: expected text")
    entries = data.get("entries")
    if type(entries) is not int or not 1 <= entries <= MAX_ENTRIES:
        raise ConfigError(f"{path}: entries: expected a whole number from 1 to {MAX_ENTRIES}")
    for name in ("head", "key"):
        if not HEX64.fullmatch(data[name]):
            raise ConfigError(f"{path}: {name}: expected 64 hexadecimal digits")
    return Checkpoint(
        fund=data["fund"],
        entries=entries,
        head=data["head"],
        time=data["time"],
        key=data["key"],
        signature=data["signature"],
    )


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: too large for a {what}")
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (expected a {what})") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from None
