import sys

from app import create_app
from app.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    sys.stderr.write(f"Invalid configuration: {exc}\n")
    raise SystemExit(2) from None
