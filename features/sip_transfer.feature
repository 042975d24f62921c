Feature: SIP call transfers
  POST /sip/transfer hands a phone caller in a LiveKit room over to another number (a SIP REFER sent
  by LiveKit). The answer is "completed" when LiveKit confirms the transfer at once, and "initiated"
  while it is still ringing the new party.

  Background:
    Given LiveKit is connected
    And SIP calls go out through the carrier "sip.carrier.example" as user "carrier-user" with password "carrier-pass-123"
    And tenant "acme" has the API secret "acme-secret-1"
    And tenant "globex" has the API secret "globex-secret-2"
    And room "acme-call" belongs to tenant "acme"
    And the phone caller "caller-1" is in room "acme-call"
    And "agent" is in room "acme-call"

  Scenario: A caller is transferred to another number
    When tenant "acme" sends POST "/sip/transfer" with the JSON body:
      """
      {"room_name": "acme-call", "participant_identity": "caller-1", "transfer_to": "+15550001111"}
      """
    Then the response status is 200
    And the response JSON is:
      """
      {"status": "completed", "room_name": "acme-call", "participant_identity": "caller-1",
       "transfer_to": "tel:+15550001111"}
      """
    And LiveKit was asked to transfer "caller-1" in room "acme-call" to "tel:+15550001111"

  Scenario: A transfer LiveKit is still ringing is reported as initiated
    Given LiveKit takes 2.5 seconds to answer TransferSIPParticipant
    When tenant "acme" transfers "caller-1" in room "acme-call" to "1234"
    Then the response status is 200
    And the transfer to "tel:1234" is reported as initiated

  Scenario: An invalid number is refused
    When tenant "acme" transfers "caller-1" in room "acme-call" to "reception"
    Then the response status is 400
    And the error code is "invalid_phone_number"
    And the error message contains "Invalid phone number"
    And LiveKit did not transfer anyone

  Scenario: An empty room name is refused
    When tenant "acme" transfers "caller-1" in room " " to "+15550001111"
    Then the response status is 400
    And the error code is "invalid_request"

  Scenario: Only phone callers can be transferred
    When tenant "acme" transfers "agent" in room "acme-call" to "+15550001111"
    Then the response status is 404
    And the error code is "participant_not_found"
    And the error message contains "not found or is not a SIP participant"
    And LiveKit did not transfer anyone

  Scenario: A caller who is not in the room
    When tenant "acme" transfers "caller-9" in room "acme-call" to "+15550001111"
    Then the response status is 404
    And the error code is "participant_not_found"

  Scenario: Tenant B cannot transfer a caller out of tenant A's room
    When tenant "globex" transfers "caller-1" in room "acme-call" to "+15550001111"
    Then the response status is 404
    And the error code is "room_access_denied"
    And LiveKit did not transfer anyone

  Scenario: LiveKit fails the transfer
    Given LiveKit answers TransferSIPParticipant with the error "failed_precondition": "sip status 403: Forbidden"
    When tenant "acme" transfers "caller-1" in room "acme-call" to "+15550001111"
    Then the response status is 500
    And the error code is "transfer_failed"
    And the error message contains "SIP transfer failed"

  Scenario: Transfers need LiveKit credentials
    Given no LiveKit API key and secret are configured
    When tenant "acme" transfers "caller-1" in room "acme-call" to "+15550001111"
    Then the response status is 500
    And the error code is "livekit_not_configured"
