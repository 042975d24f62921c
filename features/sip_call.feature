Feature: Outbound SIP calls
  POST /sip/call dials a phone number and brings the call into a LiveKit room as a participant.
  Calls go out through the carrier configured with SIP_OUTBOUND_ADDRESS (and its credentials), a
  LiveKit trunk named by SIP_OUTBOUND_TRUNK_ID, or a carrier given with the request. Numbers may be
  international (+15551234567), national (07123456789) or internal extensions (1234).

  Background:
    Given LiveKit is connected
    And SIP calls go out through the carrier "sip.carrier.example" as user "carrier-user" with password "carrier-pass-123"

  Rule: An open server dials into any room

    Scenario: A call is dialled through the configured carrier
      When I POST "/sip/call" with the JSON body:
        """
        {"room_name": "call-7", "participant_name": "Customer", "participant_identity": "customer-1",
         "from_phone_number": "+15105550123", "to_phone_number": "+15551234567"}
        """
      Then the response status is 200
      And the response field "status" is "initiated"
      And the response field "room_name" is "call-7"
      And the response field "participant_identity" is "customer-1"
      And the response field "participant_id" starts with "PA_"
      And the response field "sip_call_id" starts with "SCL_"
      And LiveKit dialled "+15551234567" from "+15105550123" through the carrier "sip.carrier.example" as user "carrier-user"
      And "customer-1" is on the phone in room "call-7"

    Scenario: The request chooses another carrier and credentials
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1" through the carrier "sip.other-carrier.example:5060" as user "other-user" with password "other-pass-456"
      Then the response status is 200
      And LiveKit dialled "+15551234567" from "+15105550123" through the carrier "sip.other-carrier.example:5060" as user "other-user"
      And the carrier password sent to LiveKit is "other-pass-456"

    Scenario: Overrides left empty keep the configured values
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1" leaving the carrier, user and password empty
      Then the response status is 200
      And LiveKit dialled "+15551234567" from "+15105550123" through the carrier "sip.carrier.example" as user "carrier-user"
      And the carrier password sent to LiveKit is "carrier-pass-123"

    Scenario: A configured LiveKit trunk is used when the request names no carrier
      Given SIP calls go out through the LiveKit trunk "ST_carrier"
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1"
      Then the response status is 200
      And LiveKit dialled "+15551234567" through the trunk "ST_carrier"

    Scenario: National numbers and extensions can be dialled
      When I call "1234" from "07123456789" into room "call-7" as "desk-1"
      Then the response status is 200
      And LiveKit dialled "1234" from "07123456789" through the carrier "sip.carrier.example" as user "carrier-user"

    Scenario: An invalid number to call is refused, naming the field
      When I call "+1 555 CALL-NOW" from "+15105550123" into room "call-7" as "customer-1"
      Then the response status is 400
      And the error code is "invalid_phone_number"
      And the error message contains "Invalid to_phone_number"
      And LiveKit did not dial anyone

    Scenario: An invalid caller number is refused, naming the field
      When I call "+15551234567" from "15+10" into room "call-7" as "customer-1"
      Then the response status is 400
      And the error code is "invalid_phone_number"
      And the error message contains "Invalid from_phone_number"

    Scenario: An empty room name is refused
      When I call "+15551234567" from "+15105550123" into room "" as "customer-1"
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "room_name"

    Scenario: The carrier refuses the call, and its password is never shown or logged
      Given the setting LOG_LEVEL is "DEBUG"
      And LiveKit answers CreateSIPParticipant with the error "resource_exhausted": "sip status 486: Busy Here (auth carrier-user:carrier-pass-123)"
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1" with the carrier password "request-pass-789"
      Then the response status is 500
      And the error code is "call_failed"
      And the error message contains "Busy Here"
      And the error message does not contain "carrier-pass-123"
      And the error message does not contain "request-pass-789"
      And no log line contains "carrier-pass-123"
      And no log line contains "request-pass-789"

  Rule: A tenant only calls into its own rooms

    Background:
      Given tenant "acme" has the API secret "acme-secret-1"
      And tenant "globex" has the API secret "globex-secret-2"

    Scenario: A call into a new room creates the room as the tenant's
      When tenant "acme" calls "+15551234567" from "+15105550123" into room "acme-call" as "customer-1"
      Then the response status is 200
      And room "acme-call" belongs to tenant "acme"
      And "customer-1" is on the phone in room "acme-call"

    Scenario: A call into the tenant's own room
      Given room "acme-call" belongs to tenant "acme"
      When tenant "acme" calls "+15551234567" from "+15105550123" into room "acme-call" as "customer-1"
      Then the response status is 200

    Scenario: Tenant B cannot call into tenant A's room
      Given room "acme-call" belongs to tenant "acme"
      When tenant "globex" calls "+15551234567" from "+15105550123" into room "acme-call" as "intruder-1"
      Then the response status is 404
      And the error code is "room_access_denied"
      And LiveKit did not dial anyone

    Scenario: A tenant cannot call into a room nobody owns
      Given room "lobby" exists without an owner
      When tenant "acme" calls "+15551234567" from "+15105550123" into room "lobby" as "customer-1"
      Then the response status is 404
      And the error code is "room_access_denied"

  Rule: Calls need LiveKit and a carrier

    Scenario: No carrier is configured and the request names none
      Given SIP is configured without an outbound carrier
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1"
      Then the response status is 500
      And the error code is "outbound_address_not_configured"

    Scenario: LiveKit credentials are not configured
      Given no LiveKit API key and secret are configured
      When I call "+15551234567" from "+15105550123" into room "call-7" as "customer-1"
      Then the response status is 500
      And the error code is "livekit_not_configured"
