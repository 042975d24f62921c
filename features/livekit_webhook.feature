Feature: LiveKit's webhook
  LiveKit posts room and participant events to POST /livekit/webhook, signed with our LiveKit API
  secret: the Authorization header holds a token carrying the SHA-256 of the exact body. The endpoint
  needs no API token, but anything unsigned, wrongly signed, expired or altered is refused. When a phone
  caller joins a room, the call is forwarded to the SIP hook of the SIP host that was called, signed
  with the hook's secret so the customer can verify it with the official SDK's WebhookReceiver.

  Background:
    Given LiveKit is connected

  Rule: Only events signed by LiveKit are accepted

    Background:
      Given tenant "acme" has the API secret "acme-secret-1"

    Scenario: A signed event is received without an API token
      When LiveKit sends a signed "room_started" event
      Then the response status is 200
      And the response JSON is:
        """
        {"status": "received"}
        """

    Scenario: A Bearer prefix on the signature is accepted too
      When LiveKit sends a signed "room_finished" event with a Bearer prefix
      Then the response status is 200

    Scenario: An unsigned event is refused
      When an event arrives without a signature
      Then the response status is 401
      And the error code is "invalid_webhook_signature"

    Scenario: An event signed with another secret is refused
      When an event arrives signed with another secret
      Then the response status is 401
      And the error code is "invalid_webhook_signature"

    Scenario: An event altered after signing is refused
      When an event arrives whose body was altered after signing
      Then the response status is 401
      And the error code is "invalid_webhook_signature"

    Scenario: An expired signature is refused
      When an event arrives with an expired signature
      Then the response status is 401
      And the error code is "invalid_webhook_signature"

    Scenario: A signed body that is not an event is refused
      When a signed body arrives that is not a LiveKit event
      Then the response status is 400
      And the error code is "invalid_webhook_event"

    Scenario: Without LiveKit credentials events cannot be verified
      Given no LiveKit API key and secret are configured
      When LiveKit sends a signed "room_started" event
      Then the response status is 503
      And the error code is "livekit_not_configured"

  Rule: Phone calls are forwarded to the hook of the SIP host called

    Scenario: A call to a configured host is forwarded, signed, and its room given to the hook's tenant
      Given the customer receives SIP events for "sip.acme.example" as tenant "acme"
      And room "sip-call-1" exists without an owner
      When LiveKit reports that "+15551234567" called "+15550001111" at "sip.acme.example", joining room "sip-call-1"
      Then the response status is 200
      And the customer receives one verified event about the call from "+15551234567" to "+15550001111"
      And the event names room "sip-call-1", host "sip.acme.example", prefix "sip-" and the participant "sip_caller_1"
      And the event carries the SIP header "x-customer" = "gold"
      And room "sip-call-1" belongs to tenant "acme"

    Scenario: A hook with its own secret signs with that secret
      Given the customer receives SIP events for "sip.acme.example" signed with its own secret "acme-own-hook-secret-123"
      When LiveKit reports that "+15551234567" called "+15550001111" at "SIP.ACME.example", joining room "sip-call-1"
      Then the customer receives one verified event about the call from "+15551234567" to "+15550001111"

    Scenario: A hook added at run time by a tenant receives its calls
      Given tenant "acme" has the API secret "acme-secret-1"
      And tenant "acme" routes SIP events for "sip.acme.example" to the customer's receiver
      When LiveKit reports that "+15551234567" called "+15550001111" at "sip.acme.example", joining room "sip-call-1"
      Then the customer receives one verified event about the call from "+15551234567" to "+15550001111"
      And room "sip-call-1" belongs to tenant "acme"

    Scenario: A call into another tenant's room is forwarded but the room keeps its owner
      Given the customer receives SIP events for "sip.acme.example" as tenant "acme"
      And room "sip-call-1" belongs to tenant "globex"
      When LiveKit reports that "+15551234567" called "+15550001111" at "sip.acme.example", joining room "sip-call-1"
      Then the customer receives one verified event about the call from "+15551234567" to "+15550001111"
      And room "sip-call-1" still belongs to tenant "globex"

    Scenario: A call to a host without a hook is not forwarded
      Given the customer receives SIP events for "sip.acme.example" as tenant "acme"
      When LiveKit reports that "+15551234567" called "+15550001111" at "sip.unknown.example", joining room "sip-call-1"
      Then the response status is 200
      And the customer receives nothing

    Scenario: Someone joining from a browser is not forwarded
      Given the customer receives SIP events for "sip.acme.example" as tenant "acme"
      When LiveKit reports that "alex" joined room "sip-call-1" from a browser
      Then the response status is 200
      And the customer receives nothing
