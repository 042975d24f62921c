"""Authentication of API callers: shared API secrets or a delegated auth service.

Flask-free: the web layer hands over the token and a description of the request; the result is an
`AuthContext` whose `tenant` isolates rooms, calls and recordings between callers."""
from app.services.auth.authenticator import AuthContext, Authenticator, RequestInfo, extract_token

__all__ = ["AuthContext", "Authenticator", "RequestInfo", "extract_token"]
