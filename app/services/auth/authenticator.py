from __future__ import annotations

import hmac

from app.services.auth.context import AuthContext, RequestInfo
from app.services.auth.delegated import DelegatedAuthClient
from app.services.auth.errors import InvalidCredentials, MalformedAuthHeader, MissingToken
from app.settings import AuthSettings


def extract_token(authorization: str | None, api_key: str | None) -> str:
    """The caller's token: `Authorization: Bearer <token>`, else `?api_key=`. Raises 401 errors
    with upstream's codes (`missing_auth_header`, `invalid_auth_header`)."""
    if authorization is not None:
        if (
            authorization.startswith("Bearer ")
            and authorization[7:]
            and authorization.isascii()
            and authorization.isprintable()
        ):
            return authorization[7:]
        if api_key and api_key.strip():
            return api_key
        raise MalformedAuthHeader()
    if api_key and api_key.strip():
        return api_key
    raise MissingToken()


class Authenticator:
    def __init__(self, settings: AuthSettings):
        self.settings = settings
        self._delegated = DelegatedAuthClient(settings) if settings.delegated else None

    @property
    def required(self) -> bool:
        return self.settings.required

    def authenticate(self, authorization: str | None, api_key: str | None, request: RequestInfo) -> AuthContext:
        if not self.settings.required:
            return AuthContext()
        token = extract_token(authorization, api_key)
        if self.settings.api_secrets:
            # API secrets win when both modes are configured: a token that matches none is refused
            # without asking the auth service, as upstream does.
            return AuthContext(self._match_secret(token))
        if self._delegated is None:  # unreachable: the settings refuse AUTH_REQUIRED without a method
            raise RuntimeError("AUTH_REQUIRED without an authentication method")
        return self._delegated.authorize(token, request)

    def _match_secret(self, token: str) -> str:
        candidate = token.encode()
        matched = None
        for entry in self.settings.api_secrets:
            # compare every entry so the time taken does not reveal which one matched
            if hmac.compare_digest(candidate, entry.secret.encode()) and matched is None:
                matched = entry.id
        if matched is None:
            raise InvalidCredentials()
        return matched

    def close(self) -> None:
        if self._delegated:
            self._delegated.close()
