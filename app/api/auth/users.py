"""The users file behind ``rest.auth.users.file``: who may call the REST API, and with what role.

A JSON file, private to the worker's user (mode 0600), written by ``penstock users ...``::

    {"version": 1,
     "cluster_secret": "<random, 32 bytes, hex>",
     "users": {"alice": {"role": "admin",
                         "password": "$argon2id$v=19$...",
                         "tokens": ["sha256:<hex>", ...]}}}

Passwords are kept as argon2id hashes (argon2-cffi); bearer tokens are 32 random bytes, so a
SHA-256 of each is enough to store (nothing to brute-force) and lets a token be checked without
the CPU cost of argon2. ``cluster_secret`` is made with the file: distributed workers that share
the file sign the requests they forward to their leader with it (see :mod:`app.api.auth.forward`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from argon2 import PasswordHasher

TOKEN_PREFIX = "pst_"
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


@cache
def _hasher() -> PasswordHasher:
    """Imported on first use: a worker without REST auth never loads argon2 (start-up time)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown user: "no such user" costs as much as a wrong password."""
    return _hasher().hash(secrets.token_hex(16))


class Role(StrEnum):
    READ_ONLY = "read-only"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def may(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.READ_ONLY: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class UsersFileError(ValueError):
    """The users file cannot be read or used; the message says what to do."""


@dataclass
class User:
    name: str
    role: Role
    password: str | None = None
    tokens: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"role": self.role.value, "password": self.password, "tokens": list(self.tokens)}


@dataclass
class UsersFile:
    path: Path
    cluster_secret: str
    users: dict[str, User]

    # -- reading and writing -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, *, check_mode: bool = True) -> UsersFile:
        try:
            info = path.stat()
            raw = path.read_bytes()
        except OSError as exc:
            raise UsersFileError(
                f"Cannot read the users file {path} (rest.auth.users.file): {exc.strerror}. "
                f"Create it with: penstock users add NAME --role admin --file {path}"
            ) from None
        if check_mode and os.name == "posix" and info.st_mode & 0o077:
            raise UsersFileError(
                f"The users file {path} (rest.auth.users.file) may be read by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); make it private to the worker's user: chmod 600 {path}"
            )
        try:
            data = orjson.loads(raw)
            users = {
                name: User(name, Role(entry["role"]), entry.get("password"), list(entry.get("tokens") or []))
                for name, entry in data["users"].items()
            }
            secret = str(data["cluster_secret"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsersFileError(
                f"The users file {path} (rest.auth.users.file) is not a Penstock users file ({type(exc).__name__}); "
                "write it with penstock users add"
            ) from None
        return cls(path, secret, users)

    @classmethod
    def load_or_new(cls, path: Path) -> UsersFile:
        if path.exists():
            return cls.load(path, check_mode=False)
        return cls(path, secrets.token_hex(32), {})

    def save(self) -> None:
        """Written to a private temporary file in the same folder and renamed over the old one."""
        data = {
            "version": 1,
            "cluster_secret": self.cluster_secret,
            "users": {name: user.as_json() for name, user in sorted(self.users.items())},
        }
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- changes (the CLI) ---------------------------------------------------------------------
    def add(self, name: str, password: str | None, role: Role) -> User:
        if not _NAME.fullmatch(name):
            raise UsersFileError(
                f"'{name}' is not a valid user name: use 1-64 letters, digits, '.', '_', '@' or '-'"
            )
        if password is not None and len(password) < 8:
            raise UsersFileError("The password is too short: use at least 8 characters")
        user = self.users.get(name) or User(name, role)
        user.role = role
        if password is not None:
            user.password = _hasher().hash(password)
        self.users[name] = user
        return user

    def remove(self, name: str) -> None:
        if self.users.pop(name, None) is None:
            raise UsersFileError(f"No user '{name}' in {self.path}")

    def new_token(self, name: str) -> str:
        user = self.users.get(name)
        if user is None:
            raise UsersFileError(f"No user '{name}' in {self.path}; add it first with penstock users add")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        user.tokens.append(token_hash(token))
        return token

    # -- checks (the worker) -------------------------------------------------------------------
    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is right. Costs an argon2 verification (tens of ms of CPU)
        also for an unknown user: run it in a thread."""
        user = self.users.get(name)
        from argon2.exceptions import InvalidHashError, VerificationError

        stored = user.password if user is not None and user.password else _dummy_hash()
        try:
            _hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return user if user is not None and user.password else None

    def check_token(self, token: str) -> User | None:
        digest = token_hash(token)
        found = None
        for user in self.users.values():
            for stored in user.tokens:
                if hmac.compare_digest(stored, digest):
                    found = user
        return found


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()
