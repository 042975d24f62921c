Feature: Health and readiness
  Operators and load balancers check that the server is alive, and that it is ready to serve
  (its database answers and its audio cache can be written), without any credentials.

  Scenario: The server says it is alive
    Given the server runs on its embedded defaults
    When I GET "/"
    Then the response status is 200
    And the response JSON is:
      """
      {"status": "ok"}
      """
    And the response carries a request id

  Scenario: Liveness needs no token even when authentication is required
    Given tenant "acme" has the API secret "acme-secret-1"
    When I GET "/"
    Then the response status is 200

  Scenario: The server is ready when its database and cache work
    Given the server runs on its embedded defaults
    When I GET "/ready"
    Then the response status is 200
    And the response JSON is:
      """
      {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
      """

  Scenario: The server is no longer ready when its cache directory stops being writable
    Given the audio cache directory stops being writable after start-up
    When I GET "/ready"
    Then the response status is 503
    And the response field "status" is "unavailable"
    And the response field "checks.database" is "ok"
    And the response field "checks.cache" starts with "error"

  Scenario: The API reference is served by the server itself
    Given the server runs on its embedded defaults
    When I GET "/docs"
    Then the response status is 200
    And the page loads its scripts and styles from this server only

  Scenario: The OpenAPI document describes both ways of passing a token
    Given the server runs on its embedded defaults
    When I GET "/openapi.json"
    Then the response status is 200
    And the document declares the security schemes "bearerAuth" and "apiKeyQuery"

  Scenario: An unknown path is a JSON error
    Given the server runs on its embedded defaults
    When I GET "/no-such-page"
    Then the response status is 404
    And the error code is "not_found"

  Scenario: A wrong method is a JSON error
    Given the server runs on its embedded defaults
    When I DELETE "/" with the JSON body:
      """
      {}
      """
    Then the response status is 405
    And the error code is "method_not_allowed"
