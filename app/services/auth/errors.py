from app.errors import ApiError, BadGateway, ServiceUnavailable, Unauthorized


class MissingToken(Unauthorized):
    code = "missing_auth_header"
    message = "Missing authentication token (Authorization header or api_key query parameter)"


class MalformedAuthHeader(Unauthorized):
    code = "invalid_auth_header"
    message = "Invalid Authorization header format (expected 'Bearer {token}') and missing api_key query parameter"


class InvalidCredentials(Unauthorized):
    code = "unauthorized"
    message = "Unauthorized: Invalid API secret"


class AuthServiceRejected(Unauthorized):
    code = "auth_service_error"


class AuthServiceFailed(BadGateway):
    code = "auth_service_error"


class AuthServiceUnavailable(ServiceUnavailable):
    code = "auth_service_unavailable"


class AuthSigningError(ApiError):
    code = "jwt_signing_error"
