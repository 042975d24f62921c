"""The fake LiveKit's SIP trunk and dispatch-rule calls (livekit.SIP service), kept apart from the room and
call handlers in `livekit.py`. Checks follow LiveKit: every call needs the SIP `admin` grant
(pkg/service/sip.go), and requests are validated as livekit/protocol `livekit/sip.go` does, with its
error texts (an inbound trunk needs numbers, credentials or allowed addresses; a dispatch rule needs a rule)."""

from __future__ import annotations

from collections.abc import Callable

from livekit.protocol import models
from livekit.protocol import sip as proto_sip


class FakeSipProvisioning:
    def __init__(self, new_id: Callable[[str], str], error: type[Exception]):
        self._id = new_id
        self._error = error  # the fake's TwirpError(code, msg)
        self.inbound_trunks: dict[str, proto_sip.SIPInboundTrunkInfo] = {}
        self.dispatch_rules: dict[str, proto_sip.SIPDispatchRuleInfo] = {}

    def reset(self) -> None:
        self.inbound_trunks.clear()
        self.dispatch_rules.clear()

    def routes(self) -> dict:
        return {
            ("livekit.SIP", "ListSIPInboundTrunk"): (proto_sip.ListSIPInboundTrunkRequest, self._list_trunks),
            ("livekit.SIP", "CreateSIPInboundTrunk"): (proto_sip.CreateSIPInboundTrunkRequest, self._create_trunk),
            ("livekit.SIP", "UpdateSIPInboundTrunk"): (proto_sip.UpdateSIPInboundTrunkRequest, self._update_trunk),
            ("livekit.SIP", "ListSIPDispatchRule"): (proto_sip.ListSIPDispatchRuleRequest, self._list_rules),
            ("livekit.SIP", "CreateSIPDispatchRule"): (proto_sip.CreateSIPDispatchRuleRequest, self._create_rule),
        }

    # --- test controls -------------------------------------------------------------------------

    def add_inbound_trunk(self, name: str, allowed_addresses: list[str]) -> proto_sip.SIPInboundTrunkInfo:
        trunk = proto_sip.SIPInboundTrunkInfo(
            sip_trunk_id=self._id("ST_"), name=name, allowed_addresses=allowed_addresses
        )
        self.inbound_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def trunks_named(self, name: str) -> list[proto_sip.SIPInboundTrunkInfo]:
        return [t for t in self.inbound_trunks.values() if t.name == name]

    def rules_named(self, name: str) -> list[proto_sip.SIPDispatchRuleInfo]:
        return [r for r in self.dispatch_rules.values() if r.name == name]

    # --- handlers ------------------------------------------------------------------------------

    def _require_admin(self, claims: dict) -> None:
        if not claims.get("sip", {}).get("admin"):
            raise self._error("unauthenticated", "permissions denied")

    def _list_trunks(self, req: proto_sip.ListSIPInboundTrunkRequest, claims: dict):
        self._require_admin(claims)
        ids = set(req.trunk_ids)
        return proto_sip.ListSIPInboundTrunkResponse(
            items=[t for t in self.inbound_trunks.values() if not ids or t.sip_trunk_id in ids]
        )

    def _create_trunk(self, req: proto_sip.CreateSIPInboundTrunkRequest, claims: dict):
        self._require_admin(claims)
        if not req.HasField("trunk"):
            raise self._error("invalid_argument", "missing trunk")
        if req.trunk.sip_trunk_id:
            raise self._error("invalid_argument", "trunk id must not be set")
        self._validate_trunk(req.trunk)
        trunk = proto_sip.SIPInboundTrunkInfo()
        trunk.CopyFrom(req.trunk)
        trunk.sip_trunk_id = self._id("ST_")
        self.inbound_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def _update_trunk(self, req: proto_sip.UpdateSIPInboundTrunkRequest, claims: dict):
        self._require_admin(claims)
        if not req.sip_trunk_id:
            raise self._error("invalid_argument", "trunk id must be set")
        trunk = self.inbound_trunks.get(req.sip_trunk_id)
        if trunk is None:
            raise self._error("not_found", "requested sip trunk does not exist")
        if req.WhichOneof("action") == "replace":
            replacement = proto_sip.SIPInboundTrunkInfo()
            replacement.CopyFrom(req.replace)
            replacement.sip_trunk_id = trunk.sip_trunk_id
            self._validate_trunk(replacement)
            trunk = self.inbound_trunks[trunk.sip_trunk_id] = replacement
        elif req.WhichOneof("action") == "update":
            update = req.update
            if update.HasField("allowed_addresses"):
                _apply(trunk.allowed_addresses, update.allowed_addresses)
            if update.HasField("numbers"):
                _apply(trunk.numbers, update.numbers)
            if update.HasField("name"):
                trunk.name = update.name
        else:
            raise self._error("invalid_argument", "missing or unsupported action")
        return trunk

    def _validate_trunk(self, trunk: proto_sip.SIPInboundTrunkInfo) -> None:
        if not (trunk.auth_username or trunk.auth_password or trunk.allowed_addresses or trunk.numbers):
            raise self._error(
                "invalid_argument",
                "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers",
            )

    def _list_rules(self, req: proto_sip.ListSIPDispatchRuleRequest, claims: dict):
        self._require_admin(claims)
        ids = set(req.dispatch_rule_ids)
        return proto_sip.ListSIPDispatchRuleResponse(
            items=[r for r in self.dispatch_rules.values() if not ids or r.sip_dispatch_rule_id in ids]
        )

    def _create_rule(self, req: proto_sip.CreateSIPDispatchRuleRequest, claims: dict):
        self._require_admin(claims)
        rule = proto_sip.SIPDispatchRuleInfo()
        if req.HasField("dispatch_rule"):
            rule.CopyFrom(req.dispatch_rule)
        else:  # the deprecated flat form older SDKs send
            rule.rule.CopyFrom(req.rule)
            rule.name, rule.trunk_ids[:] = req.name, list(req.trunk_ids)
        if rule.sip_dispatch_rule_id:
            raise self._error("invalid_argument", "rule id must not be set")
        if rule.rule.WhichOneof("rule") is None:
            raise self._error("invalid_argument", "missing rule")
        for trunk_id in rule.trunk_ids:
            if trunk_id not in self.inbound_trunks:
                raise self._error("not_found", "requested sip trunk does not exist")
        rule.sip_dispatch_rule_id = self._id("SDR_")
        self.dispatch_rules[rule.sip_dispatch_rule_id] = rule
        return rule


def _apply(values, update: models.ListUpdate) -> None:
    """livekit/protocol applyListUpdate: set replaces, then remove and add."""
    if update.clear:
        del values[:]
    if update.set:
        values[:] = list(update.set)
    for item in update.remove:
        while item in values:
            values.remove(item)
    for item in update.add:
        if item not in values:
            values.append(item)
