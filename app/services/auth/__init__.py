"""Authentication of API callers: shared API secrets or a delegated auth service.

Flask-free: the web layer hands over the token and a description of the request; the result is an
`AuthContext` whose `tenant` isolates rooms, calls and recordings between callers."""

from app.services.auth.authenticator import Authenticator, extract_token
from app.services.auth.context import AuthContext, RequestInfo

__all__ = ["AuthContext", "Authenticator", "RequestInfo", "extract_token"]
