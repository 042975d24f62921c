from app.api.blueprint import Blueprint
from app.api.sip.schemas import (
    SipCallRequestSchema,
    SipCallResponseSchema,
    SipHooksRequestSchema,
    SipHooksResponseSchema,
    SipHostsRequestSchema,
    SipTransferRequestSchema,
    SipTransferResponseSchema,
)
from app.extensions import ErrorSchema, services
from app.security import current_tenant
from app.services.sip import SipOverrides

blp = Blueprint("sip", __name__, description="Outbound SIP calls, transfers and SIP webhook routes")


def _sip():
    return services().sip


@blp.route("/sip/call", methods=["POST"])
@blp.arguments(SipCallRequestSchema)
@blp.response(200, SipCallResponseSchema)
@blp.alt_response(
    400, schema=ErrorSchema, description="A field is empty or a phone number is invalid (`invalid_phone_number`)"
)
@blp.alt_response(404, schema=ErrorSchema, description="The room belongs to another tenant (`room_access_denied`)")
@blp.alt_response(
    500, schema=ErrorSchema, description="`livekit_not_configured`, `outbound_address_not_configured` or `call_failed`"
)
def sip_call(body):
    """Dial a phone number into a LiveKit room. With a tenant, a missing room is created as the caller's."""
    sip = body.get("sip") or {}
    overrides = SipOverrides(sip.get("outbound_address"), sip.get("auth_username"), sip.get("auth_password"))
    return _sip().calls.call(
        current_tenant(),
        body["room_name"],
        body["participant_name"],
        body["participant_identity"],
        body["from_phone_number"],
        body["to_phone_number"],
        overrides,
    )


@blp.route("/sip/transfer", methods=["POST"])
@blp.arguments(SipTransferRequestSchema)
@blp.response(200, SipTransferResponseSchema)
@blp.alt_response(
    400, schema=ErrorSchema, description="A field is empty or the number is invalid (`invalid_phone_number`)"
)
@blp.alt_response(
    404,
    schema=ErrorSchema,
    description="Room not accessible (`room_access_denied`) or no such SIP participant (`participant_not_found`)",
)
@blp.alt_response(500, schema=ErrorSchema, description="`livekit_not_configured` or `transfer_failed`")
def sip_transfer(body):
    """Transfer a SIP participant's call elsewhere (SIP REFER)."""
    return _sip().calls.transfer(current_tenant(), body["room_name"], body["participant_identity"], body["transfer_to"])


@blp.route("/sip/hooks", methods=["GET"])
@blp.response(200, SipHooksResponseSchema)
@blp.alt_response(500, schema=ErrorSchema, description="The hook store failed")
def list_hooks():
    """SIP webhook routes: configured ones and those added at run time (a tenant sees its own)."""
    return {"hooks": _sip().hooks.visible(current_tenant())}


@blp.route("/sip/hooks", methods=["POST"])
@blp.arguments(SipHooksRequestSchema)
@blp.response(200, SipHooksResponseSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Empty field, duplicate host or non-http(s) URL")
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="`auth_id` is not the caller's tenant, or the host is routed by another tenant (`hook_access_denied`)",
)
@blp.alt_response(405, schema=ErrorSchema, description="A host from SIP_HOOKS_JSON (`config_hook_read_only`)")
@blp.alt_response(500, schema=ErrorSchema, description="The hook store failed")
def set_hooks(body):
    """Add or replace SIP webhook routes by host (case-insensitive); they persist in the database."""
    return {"hooks": _sip().hooks.upsert(current_tenant(), body.get("hooks") or [])}


@blp.route("/sip/hooks", methods=["DELETE"])
@blp.arguments(SipHostsRequestSchema)
@blp.response(200, SipHooksResponseSchema)
@blp.alt_response(400, schema=ErrorSchema, description="No hosts given")
@blp.alt_response(405, schema=ErrorSchema, description="A host from SIP_HOOKS_JSON (`config_hook_read_only`)")
@blp.alt_response(500, schema=ErrorSchema, description="The hook store failed")
def delete_hooks(body):
    """Remove runtime SIP webhook routes by host; unknown hosts are ignored."""
    return {"hooks": _sip().hooks.delete(current_tenant(), body.get("hosts") or [])}
