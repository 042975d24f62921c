"""Every endpoint group, registered on the flask-smorest Api."""
from flask_smorest import Api

from app.api.health.routes import blp as health
from app.api.livekit.routes import blp as livekit
from app.api.recording.routes import blp as recording
from app.api.room_recording.routes import blp as room_recording
from app.api.sip.routes import blp as sip
from app.api.speak.routes import blp as speak
from app.api.voices.routes import blp as voices

BLUEPRINTS = (health, voices, speak, livekit, room_recording, sip, recording)


def register_blueprints(api: Api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
