from app.api.blueprint import Blueprint
from app.api.voices.schemas import CATALOG
from app.extensions import services

blp = Blueprint("voices", __name__, description="Voice catalog aggregated from TTS providers")


@blp.route("/voices")
@blp.doc(
    responses={
        "200": {
            "description": "Voices grouped by provider: `local` always, `deepgram` and `elevenlabs` when "
            "their keys are set",
            "content": {"application/json": {"schema": CATALOG}},
        },
        "500": {
            "description": "A configured provider failed and has no recent catalog to fall back on; the "
            "message names it"
        },
    }
)
def voices():
    """The voices of every configured provider, queried in parallel and cached for a short time."""
    return services().voices.all()
