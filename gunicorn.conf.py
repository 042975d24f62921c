"""gunicorn settings, read from the same environment variables as the app (HOST, PORT, WEB_CONCURRENCY)."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '3001')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# gunicorn's access log would print query strings, which may carry ?api_key=: the app logs requests
# itself (JSON, path only, with the request id).
accesslog = None
errorlog = "-"
