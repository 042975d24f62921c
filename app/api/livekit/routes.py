from app.api.blueprint import Blueprint

blp = Blueprint("livekit", __name__, description="LiveKit participant tokens and room management")
