from marshmallow import Schema, fields, validate

from app.api.blueprint import RequestSchema, not_blank
from app.services.sip.phone import PHONE_NUMBER_PATTERN


class SipOverridesSchema(RequestSchema):
    outbound_address = fields.String(validate=not_blank, metadata={"example": "sip.provider.com:5060"})
    auth_username = fields.String(metadata={"example": "user123"})
    auth_password = fields.String(load_only=True, metadata={"example": "secret456"})


class SipCallRequestSchema(RequestSchema):
    room_name = fields.String(required=True, validate=not_blank, metadata={"example": "call-room-123"})
    participant_name = fields.String(required=True, validate=not_blank, metadata={"example": "John Doe"})
    participant_identity = fields.String(required=True, validate=not_blank, metadata={"example": "caller-456"})
    from_phone_number = fields.String(
        required=True, metadata={"example": "+15105550123", "pattern": PHONE_NUMBER_PATTERN}
    )
    to_phone_number = fields.String(
        required=True,
        metadata={
            "example": "+15551234567",
            "pattern": PHONE_NUMBER_PATTERN,
            "description": "International (+1234567890), national (07123456789) or an extension (1234)",
        },
    )
    sip = fields.Nested(
        SipOverridesSchema, metadata={"description": "Per-call overrides of the SIP_OUTBOUND_* settings"}
    )


class SipCallResponseSchema(Schema):
    status = fields.String(required=True, metadata={"example": "initiated"})
    room_name = fields.String(required=True)
    participant_identity = fields.String(required=True)
    participant_id = fields.String(required=True, metadata={"example": "PA_abc123"})
    sip_call_id = fields.String(required=True, metadata={"example": "SCL_xyz789"})


class SipTransferRequestSchema(RequestSchema):
    room_name = fields.String(required=True, validate=not_blank, metadata={"example": "call-room-123"})
    participant_identity = fields.String(required=True, validate=not_blank, metadata={"example": "sip_participant_456"})
    transfer_to = fields.String(required=True, metadata={"example": "+15551234567", "pattern": PHONE_NUMBER_PATTERN})


class SipTransferResponseSchema(Schema):
    status = fields.String(
        required=True,
        metadata={"example": "completed", "description": "completed, or initiated while LiveKit still rings"},
    )
    room_name = fields.String(required=True)
    participant_identity = fields.String(required=True)
    transfer_to = fields.String(required=True, metadata={"example": "tel:+15551234567"})


class SipHookSchema(Schema):
    host = fields.String(required=True, metadata={"example": "sip.example.com"})
    url = fields.String(required=True, metadata={"example": "https://hooks.example.com/sip"})
    auth_id = fields.String(required=True, metadata={"example": "acme"})


# What the sip_hooks columns hold (app/db/models.py): a value over these is a 400, not a failed insert.
_HOST_CHARS = 255
_URL_CHARS = 2048
_AUTH_ID_CHARS = 255
_PRINTABLE = validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="must not contain control characters")


_HOST = [validate.Length(max=_HOST_CHARS), _PRINTABLE]


class SipHookEntrySchema(RequestSchema):
    host = fields.String(required=True, validate=[not_blank, *_HOST], metadata={"example": "sip.example.com"})
    url = fields.String(
        required=True,
        validate=[not_blank, validate.Length(max=_URL_CHARS), _PRINTABLE],
        metadata={"example": "https://hooks.example.com/sip"},
    )
    auth_id = fields.String(validate=[validate.Length(max=_AUTH_ID_CHARS), _PRINTABLE], metadata={"example": "acme"})


class SipHooksRequestSchema(RequestSchema):
    hooks = fields.List(fields.Nested(SipHookEntrySchema), required=True)


class SipHostsRequestSchema(RequestSchema):
    hosts = fields.List(fields.String(validate=_HOST), load_default=list, metadata={"example": ["sip.example.com"]})


class SipHooksResponseSchema(Schema):
    hooks = fields.List(fields.Nested(SipHookSchema), required=True)
