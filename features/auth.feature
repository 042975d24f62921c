Feature: Authentication
  When AUTH_REQUIRED is on, every endpoint except health, docs and LiveKit's signed webhook needs a
  token, sent as "Authorization: Bearer <token>" or as "?api_key=<token>". The token either matches one
  of the server's API secrets, whose id becomes the caller's tenant, or is checked by the customer's own
  auth service, which names the tenant. "/test/whoami" is a protected page that tells who I am.

  Rule: Without AUTH_REQUIRED nobody is asked for a token

    Scenario: An open server accepts requests without a token and isolates no tenant
      Given the server runs on its embedded defaults
      When I GET "/test/whoami"
      Then I am identified as no tenant

    Scenario: An open server ignores a token it is sent
      Given the server runs on its embedded defaults
      When I GET "/test/whoami" with the token "anything"
      Then I am identified as no tenant

  Rule: Shared API secrets identify the tenant

    Background:
      Given tenant "acme" has the API secret "acme-secret-1"
      And tenant "globex" has the API secret "globex-secret-2"

    Scenario: A request without a token is refused
      When I GET "/test/whoami"
      Then the response status is 401
      And the error code is "missing_auth_header"

    Scenario: A header that is not a bearer token is refused
      When I GET "/test/whoami" with the Authorization header "Basic YWNtZTpzZWNyZXQ="
      Then the response status is 401
      And the error code is "invalid_auth_header"

    Scenario: A wrong token is refused without echoing it
      When I GET "/test/whoami" with the token "not-a-secret"
      Then the response status is 401
      And the error code is "unauthorized"
      And the error message does not contain "not-a-secret"

    Scenario: Secrets are case-sensitive
      When I GET "/test/whoami" with the token "ACME-SECRET-1"
      Then the response status is 401
      And the error code is "unauthorized"

    Scenario: The right token in the Authorization header is accepted
      When I GET "/test/whoami" with the token "globex-secret-2"
      Then I am identified as tenant "globex"

    Scenario: The right token in the api_key query parameter is accepted
      When I GET "/test/whoami" with the token "acme-secret-1" in the api_key query parameter
      Then I am identified as tenant "acme"

    Scenario: A malformed header falls back to the api_key query parameter
      When I GET "/test/whoami" with the token "acme-secret-1" in the api_key query parameter and the Authorization header "Token acme-secret-1"
      Then I am identified as tenant "acme"

    Scenario: Health, the API reference and the OpenAPI document need no token
      When I GET "/"
      Then the response status is 200
      When I GET "/docs"
      Then the response status is 200
      When I GET "/openapi.json"
      Then the response status is 200

  Rule: The customer's auth service decides, and names the tenant

    Background:
      Given authentication is delegated to the customer's auth service

    Scenario: The auth service allows the request and names the tenant
      When I GET "/test/whoami" with the token "allow:initech"
      Then I am identified as tenant "initech"
      And the auth service was asked once, about "GET /test/whoami" with the token "allow:initech"

    Scenario: A token in the api_key query parameter is checked by the auth service too
      When I GET "/test/whoami" with the token "allow:initech" in the api_key query parameter
      Then I am identified as tenant "initech"

    Scenario: The auth service allows the request without naming a tenant
      When I GET "/test/whoami" with the token "allow"
      Then I am identified as no tenant

    Scenario: The auth service denies the request
      When I GET "/test/whoami" with the token "deny"
      Then the response status is 401
      And the error code is "unauthorized"
      And the error message contains "Invalid token"

    Scenario: The auth service refuses with another client error
      When I GET "/test/whoami" with the token "forbid"
      Then the response status is 401
      And the error code is "auth_service_error"
      And the error message contains "403"

    Scenario: The auth service fails
      When I GET "/test/whoami" with the token "crash"
      Then the response status is 502
      And the error code is "auth_service_error"
      And the error message contains "500"

    Scenario: The auth service is too slow
      Given the auth service answers after 3 seconds and the server waits 1 second
      When I GET "/test/whoami" with the token "slow"
      Then the response status is 503
      And the error code is "auth_service_unavailable"

    Scenario: A request without a token never reaches the auth service
      When I GET "/test/whoami"
      Then the response status is 401
      And the error code is "missing_auth_header"
      And the auth service was not asked

  Rule: An auth service that cannot be reached makes protected endpoints unavailable

    Scenario: The auth service is down
      Given authentication is delegated to an auth service that cannot be reached
      When I GET "/test/whoami" with the token "allow:initech"
      Then the response status is 503
      And the error code is "auth_service_unavailable"

  Rule: Every endpoint but health, docs and LiveKit's webhook asks for a token

    Background:
      Given tenant "acme" has the API secret "acme-secret-1"

    Scenario Outline: <method> <path> without a token is refused
      When I call <method> "<path>" without a token
      Then the response status is 401
      And the error code is "missing_auth_header"

      Examples:
        | method | path                      |
        | GET    | /voices                   |
        | POST   | /speak                    |
        | POST   | /livekit/token            |
        | GET    | /livekit/rooms            |
        | GET    | /livekit/rooms/support-42 |
        | DELETE | /livekit/participant      |
        | POST   | /livekit/participant/mute |
        | POST   | /sip/call                 |
        | POST   | /sip/transfer             |
        | GET    | /sip/hooks                |
        | POST   | /sip/hooks                |
        | DELETE | /sip/hooks                |
        | GET    | /recording/call-42        |

    Scenario Outline: <method> <path> needs no token
      When I call <method> "<path>" without a token
      Then the response status is not 401

      Examples:
        | method | path             |
        | GET    | /                |
        | GET    | /ready           |
        | GET    | /docs            |
        | GET    | /openapi.json    |
        | POST   | /livekit/webhook |
