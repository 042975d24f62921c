from app.api.blueprint import Blueprint

blp = Blueprint("voices", __name__, description="Voice catalog aggregated from TTS providers")
