"""Which role each REST call needs: the one table, read by the auth middleware.

``read-only`` may read everything (connector configs with secret values masked), ``operator``
may also pause, resume, stop and restart connectors and tasks and replay dead letters,
``admin`` may do everything else. A call not in the table needs ``admin``: a new write route
is closed until someone decides who may call it. ``HEAD`` and ``OPTIONS`` count as ``GET``.
The README's "Running it safely" section shows this table.
"""

from __future__ import annotations

from app.api.auth.users import Role

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
"""Answered without credentials: liveness and readiness probes of orchestrators (``/readyz``
then says only ``ready`` or ``starting``, without the reason)."""

_ANY = "*"
# (method, path pattern) -> role; ``*`` in a pattern is one path segment.
TABLE: dict[tuple[str, str], Role] = {
    # lifecycle: operator
    ("PUT", "/connectors/*/pause"): Role.OPERATOR,
    ("PUT", "/connectors/*/resume"): Role.OPERATOR,
    ("PUT", "/connectors/*/stop"): Role.OPERATOR,
    ("POST", "/connectors/*/restart"): Role.OPERATOR,
    ("POST", "/connectors/*/tasks/*/restart"): Role.OPERATOR,
    ("POST", "/connectors/*/dead-letters/replay"): Role.OPERATOR,
    # everything else that changes something is admin, listed here so the table documents it
    ("POST", "/connectors"): Role.ADMIN,
    ("PUT", "/connectors/*/config"): Role.ADMIN,
    ("PATCH", "/connectors/*/config"): Role.ADMIN,
    ("DELETE", "/connectors/*"): Role.ADMIN,
    ("PATCH", "/connectors/*/offsets"): Role.ADMIN,
    ("DELETE", "/connectors/*/offsets"): Role.ADMIN,
    ("PUT", "/connectors/*/topics/reset"): Role.ADMIN,
    ("PUT", "/connector-plugins/*/config/validate"): Role.ADMIN,
    ("POST", "/transforms/preview"): Role.ADMIN,
    ("PUT", "/admin/loggers/*"): Role.ADMIN,
}
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _matches(pattern: str, path: str) -> bool:
    wanted, given = pattern.split("/"), path.split("/")
    return len(wanted) == len(given) and all(w in (_ANY, g) for w, g in zip(wanted, given, strict=True))


def required_role(method: str, path: str) -> Role:
    """The least role that may make this call (``path`` as routed: decoded, no trailing ``/``)."""
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    for (m, pattern), role in TABLE.items():
        if m == method and _matches(pattern, path):
            return role
    return Role.READ_ONLY if method in READS else Role.ADMIN


def sees_secrets(role: Role) -> bool:
    """Whether connector configs are shown to this role with their secret values (admin only:
    the others cannot write a config, so they never need one back)."""
    return role is Role.ADMIN


def table_markdown() -> str:
    """The README's table of roles (a test keeps it in sync)."""
    rows = ["| Call | Role needed |", "|---|---|"]
    rows.append("| any `GET` (connector configs with secret values masked below `admin`) | `read-only` |")
    for (method, pattern), role in TABLE.items():
        rows.append(f"| `{method} {pattern.replace('*', '{…}')}` | `{role.value}` |")
    rows.append("| any other `POST`, `PUT`, `PATCH`, `DELETE` | `admin` |")
    rows.append(f"| `{'`, `'.join(sorted(OPEN_PATHS))}` | none (open) |")
    return "\n".join(rows) + "\n"
