"""Extensions created once and bound to each app in `create_app`."""
from flask_smorest import Api

api = Api()
