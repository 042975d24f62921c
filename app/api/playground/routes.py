"""`GET /playground`: one small page (no CDN, no build step) to hear /speak and mint a LiveKit token."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.extensions import services
from app.security import public

blp = Blueprint(
    "playground", __name__, template_folder="templates", static_folder="static", static_url_path="/playground/static"
)


@blp.route("/playground")
@public
def playground():
    settings = services().settings
    return render_template(
        "playground.html",
        auth_required=settings.auth.required,
        livekit_configured=settings.livekit.configured,
        default_provider=settings.tts.default_provider,
    )
