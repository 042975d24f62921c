"""The HTTP layer: one blueprint per endpoint group (thin views over the services) and the error responses."""

from __future__ import annotations

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    """Every endpoint group, registered on this app's Api; imported here, when an app is built."""
    from app.api.health.routes import blp as health
    from app.api.livekit.routes import blp as livekit
    from app.api.recording.routes import blp as recording
    from app.api.room_recording.routes import blp as room_recording
    from app.api.sip.routes import blp as sip
    from app.api.speak.routes import blp as speak
    from app.api.voices.routes import blp as voices

    for blueprint in (health, voices, speak, livekit, room_recording, sip, recording):
        api.register_blueprint(blueprint)
