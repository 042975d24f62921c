from app.api.blueprint import Blueprint

blp = Blueprint("recording", __name__, description="Session recordings")
