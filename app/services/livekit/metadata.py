"""Room ownership lives in the LiveKit room's metadata: a JSON object whose `auth_id` names the tenant.

Other keys belong to whoever else writes metadata and are always kept."""

from __future__ import annotations

import json


class MetadataNotAnObject(ValueError):
    """The room's metadata is set but is not a JSON object: claiming it would clobber someone's data."""


class OwnedByAnotherTenant(ValueError):
    pass


def _parse(metadata: str) -> dict:
    if not metadata or not metadata.strip():
        return {}
    value = json.loads(metadata)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def owner_of(metadata: str) -> str | None:
    """The tenant owning a room, or None (no metadata, no string `auth_id`, or metadata that is not JSON)."""
    try:
        owner = _parse(metadata).get("auth_id")
    except ValueError:
        return None
    return owner if isinstance(owner, str) else None


def with_owner(metadata: str, tenant: str) -> str:
    """The metadata with `auth_id` set to `tenant`, every other key kept.

    Raises OwnedByAnotherTenant when another tenant already owns it, MetadataNotAnObject when the
    existing metadata cannot be merged into."""
    try:
        value = _parse(metadata)
    except ValueError:
        raise MetadataNotAnObject("room metadata is not a JSON object") from None
    current = value.get("auth_id")
    if isinstance(current, str) and current != tenant:
        raise OwnedByAnotherTenant(current)
    value["auth_id"] = tenant
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
