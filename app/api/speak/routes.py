from app.api.blueprint import Blueprint

blp = Blueprint("speak", __name__, description="One-shot text-to-speech")
