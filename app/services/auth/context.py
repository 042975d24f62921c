from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AuthContext:
    """Who is calling. `auth_id` is None when auth is off or the auth service named no one."""

    auth_id: str | None = None

    @property
    def tenant(self) -> str | None:
        """The effective tenant id: trimmed, and blank counts as none (as upstream)."""
        if self.auth_id is None:
            return None
        return self.auth_id.strip() or None


@dataclass(frozen=True)
class RequestInfo:
    """What the delegated auth service is told about the request being authorised."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
