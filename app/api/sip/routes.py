from app.api.blueprint import Blueprint

blp = Blueprint("sip", __name__, description="Outbound SIP calls, transfers and SIP webhook routes")
