"""SIP webhook routes: which URL hears about inbound calls to which SIP host.

Hooks from SIP_HOOKS_JSON are read-only (405 on any change) and win over stored ones; hooks added at
run time live in the `sip_hooks` table (no secret: they are signed with SIP_HOOK_SECRET).

Tenancy (upstream has none here): a hook's `auth_id` is the tenant whose rooms its calls land in. With
a tenant, a caller sees and changes only hooks with its own `auth_id`, may only route to itself, and
cannot take over a host another tenant routes. Every host a tenant does not own answers alike, whether
it is configured or stored, so a tenant cannot learn which hosts exist and how they are routed.

URLs written at run time must point at the public internet (see `public_network`), unless
SIP_HOOKS_ALLOW_PRIVATE=true."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.db import Database
from app.db.models import SipHook
from app.errors import ApiError, BadRequest, Forbidden, MethodNotAllowed
from app.services.sip.public_network import NotPublic, check_public_url
from app.settings import SipSettings


@dataclass(frozen=True)
class Hook:
    host: str
    url: str
    auth_id: str = ""
    secret: str | None = field(default=None, repr=False)
    configured: bool = False


class HookStorageFailed(ApiError):
    status, code, message = 500, "hook_storage_failed", "Failed to store SIP hooks"


def normalize_host(host: str) -> str:
    return host.strip().lower()


def _not_yours(host: str) -> Forbidden:
    return Forbidden(f"Host '{host}' cannot be routed by your tenant", code="hook_access_denied")


class SipHookRegistry:
    def __init__(self, settings: SipSettings, database: Database, *, auth_required: bool = False):
        self.settings = settings
        self.database = database
        self.auth_required = auth_required
        self._configured = {h.host: Hook(h.host, h.url, h.auth_id, h.secret, configured=True) for h in settings.hooks}

    # --- reading -------------------------------------------------------------------------------

    def all(self) -> list[Hook]:
        stored = [Hook(row.host, row.url, row.auth_id) for row in self._stored() if row.host not in self._configured]
        return sorted([*self._configured.values(), *stored], key=lambda hook: hook.host)

    def find(self, host: str) -> Hook | None:
        host = normalize_host(host)
        if host in self._configured:
            return self._configured[host]
        try:
            with self.database.session() as session:
                row = session.get(SipHook, host)
                return Hook(row.host, row.url, row.auth_id) if row else None
        except SQLAlchemyError:
            raise HookStorageFailed("Failed to read SIP hooks") from None

    def visible(self, tenant: str | None) -> list[Hook]:
        return [hook for hook in self.all() if tenant is None or hook.auth_id == tenant]

    # --- changing ------------------------------------------------------------------------------

    def upsert(self, tenant: str | None, entries: list[dict]) -> list[Hook]:
        hooks = [self._validated(tenant, entry) for entry in entries]
        if tenant is not None:  # one answer for configured and stored hosts of others, before anything else
            owners = self._owners([hook.host for hook in hooks])
            foreign = next((hook.host for hook in hooks if owners.get(hook.host, tenant) != tenant), None)
            if foreign is not None:
                raise _not_yours(foreign)
        self._refuse_configured([hook.host for hook in hooks])
        seen: set[str] = set()
        for hook in hooks:
            if hook.host in seen:
                raise BadRequest(f"Duplicate host detected: {hook.host}", code="duplicate_host")
            seen.add(hook.host)
        if hooks:
            self._store(tenant, hooks)
        return self.visible(tenant)

    def delete(self, tenant: str | None, hosts: list[str]) -> list[Hook]:
        names = sorted({normalize_host(h) for h in hosts if h.strip()})
        if not names:
            raise BadRequest("No hosts provided to delete.")
        # another tenant's configured host is left alone, exactly like a host that is not there
        self._refuse_configured([name for name in names if not self._owned_by_another(tenant, name)])
        statement = delete(SipHook).where(SipHook.host.in_(names))
        if tenant is not None:  # another tenant's host is left alone, exactly like a host that is not there
            statement = statement.where(SipHook.auth_id == tenant)
        try:
            with self.database.session() as session:
                session.execute(statement)
        except SQLAlchemyError:
            raise HookStorageFailed() from None
        return self.visible(tenant)

    # --- steps ---------------------------------------------------------------------------------

    def _stored(self) -> list[SipHook]:
        try:
            with self.database.session() as session:
                return list(session.scalars(select(SipHook)))
        except SQLAlchemyError:
            raise HookStorageFailed("Failed to read SIP hooks") from None

    def _validated(self, tenant: str | None, entry: dict) -> Hook:
        host = normalize_host(entry.get("host") or "")
        url = (entry.get("url") or "").strip()
        auth_id = (entry.get("auth_id") or "").strip()
        if not host:
            raise BadRequest("Hook host cannot be empty")
        if not url.lower().startswith(("http://", "https://")):
            raise BadRequest(f"Hook for host '{host}' needs an http(s) URL", code="invalid_hook_url")
        if not auth_id and (self.auth_required or tenant is not None):
            raise BadRequest(
                f"Hook for host '{host}' has empty auth_id. When AUTH_REQUIRED=true, auth_id must be provided.",
                code="invalid_auth_id",
            )
        if tenant is not None and auth_id != tenant:
            raise Forbidden(
                f"Hook for host '{host}' must route to your own tenant: auth_id '{tenant}'", code="hook_access_denied"
            )
        hook = Hook(host, url, auth_id)
        if not self.settings.hooks_allow_private:
            self._require_public(hook)
        return hook

    def _owned_by_another(self, tenant: str | None, host: str) -> bool:
        return tenant is not None and host in self._configured and self._configured[host].auth_id != tenant

    def _owners(self, hosts: list[str]) -> dict[str, str]:
        """The tenant of each of these hosts that is configured or stored."""
        try:
            with self.database.session() as session:
                stored = dict(
                    session.execute(select(SipHook.host, SipHook.auth_id).where(SipHook.host.in_(hosts))).all()
                )
        except SQLAlchemyError:
            raise HookStorageFailed("Failed to read SIP hooks") from None
        return {**stored, **{host: self._configured[host].auth_id for host in hosts if host in self._configured}}

    @staticmethod
    def _require_public(hook: Hook) -> None:
        try:
            check_public_url(hook.url)
        except NotPublic:  # one answer whatever the reason: no probing of internal DNS names
            raise BadRequest(
                f"Hook for host '{hook.host}' must send to a public internet address (its URL's host "
                "must resolve, and not to a loopback, private, link-local or metadata address)",
                code="invalid_hook_url",
            ) from None

    def _refuse_configured(self, hosts: list[str]) -> None:
        protected = sorted({host for host in hosts if host in self._configured})
        if protected:
            raise MethodNotAllowed(
                f"Host(s) {', '.join(protected)} are hardcoded in the application config and cannot be changed.",
                code="config_hook_read_only",
            )

    def _store(self, tenant: str | None, hooks: list[Hook], *, attempts: int = 2) -> None:
        now = datetime.now(UTC)
        try:
            with self.database.session() as session:
                existing = {
                    row.host: row
                    for row in session.scalars(
                        select(SipHook).where(SipHook.host.in_([hook.host for hook in hooks])).with_for_update()
                    )
                }
                for hook in hooks:
                    row = existing.get(hook.host)
                    if row is None:
                        session.add(
                            SipHook(host=hook.host, url=hook.url, auth_id=hook.auth_id, created_at=now, updated_at=now)
                        )
                        continue
                    if tenant is not None and row.auth_id != tenant:
                        raise _not_yours(hook.host)
                    row.url, row.auth_id, row.updated_at = hook.url, hook.auth_id, now
        except IntegrityError:
            if attempts <= 1:
                raise HookStorageFailed() from None
            self._store(tenant, hooks, attempts=attempts - 1)  # a concurrent request inserted the same host
        except SQLAlchemyError:
            raise HookStorageFailed() from None
