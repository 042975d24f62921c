Feature: LiveKit participant tokens
  A participant joins a LiveKit room with a token from POST /livekit/token. When callers are tenants,
  the room is first made the caller's: created if missing, claimed if nobody owns it, with the tenant
  recorded as "auth_id" in the room's metadata. A room that belongs to another tenant is refused.

  Rule: An open server issues tokens without touching LiveKit
    A token is least-privilege: it joins one room and nothing more. LIVEKIT_TOKEN_UPSTREAM_GRANTS=true
    adds the upstream server's roomList, roomCreate, roomRecord and canUpdateOwnMetadata grants.

    Background:
      Given LiveKit is connected

    Scenario: A participant gets a token to join a room
      When I ask for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 200
      And the token lets "alex-1" named "Alex" join room "support-42"
      And the response field "livekit_url" is "wss://rtc.example.com"
      And LiveKit was not asked anything

    Scenario: A token only lets its participant join, speak, listen and send data in its room
      When I ask for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the token grants roomJoin, canPublish, canSubscribe and canPublishData
      And the token cannot list the rooms on LiveKit
      And the token cannot create a room on LiveKit

    Scenario: A deployment can restore the upstream server's wider grants
      Given participant tokens carry the upstream server's grants
      When I ask for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the token grants roomJoin, roomRecord, roomList, roomCreate, canPublish, canSubscribe, canPublishData and canUpdateOwnMetadata
      And the token can list the rooms on LiveKit

    Scenario: An empty field is refused
      When I ask for a token to room "  " as "Alex" with the identity "alex-1"
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "room_name"

    Scenario: A missing field is refused
      When I POST "/livekit/token" with the JSON body:
        """
        {"room_name": "support-42", "participant_name": "Alex"}
        """
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "participant_identity"

  Rule: A tenant's token makes the room theirs first
    Ownership is decided by the server's database, one row per room name: of tenants claiming the same
    room at once, on any number of server processes, the first wins and every other is refused. The
    owner is also written to the room's metadata. A room name is free again once LiveKit reports the
    room finished (its webhook must point at POST /livekit/webhook).

    Background:
      Given LiveKit is connected
      And tenant "acme" has the API secret "acme-secret-1"
      And tenant "globex" has the API secret "globex-secret-2"

    Scenario: The room is created as the tenant's
      When tenant "acme" asks for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 200
      And the token lets "alex-1" named "Alex" join room "support-42"
      And room "support-42" belongs to tenant "acme"

    Scenario: The tenant's own room gets more tokens
      Given room "support-42" belongs to tenant "acme"
      When tenant "acme" asks for a token to room "support-42" as "Sam" with the identity "sam-2"
      Then the response status is 200
      And the token lets "sam-2" named "Sam" join room "support-42"
      And LiveKit did not change any room

    Scenario: A room nobody owns is claimed and keeps its other metadata
      Given room "lobby" exists with the metadata '{"topic": "sales"}'
      When tenant "acme" asks for a token to room "lobby" as "Alex" with the identity "alex-1"
      Then the response status is 200
      And room "lobby" has the metadata '{"auth_id": "acme", "topic": "sales"}'

    Scenario: Tenant B cannot get a token for tenant A's room
      Given room "support-42" belongs to tenant "acme"
      When tenant "globex" asks for a token to room "support-42" as "Eve" with the identity "eve-9"
      Then the response status is 403
      And the error code is "room_access_denied"
      And room "support-42" still belongs to tenant "acme"

    Scenario: Of two tenants asking for one unowned room at once, exactly one gets it
      Given room "contested" exists without an owner
      When tenants "acme" and "globex" each ask 10 times at once for a token to room "contested"
      Then one tenant got all its tokens and the other tenant was refused every time
      And room "contested" belongs to the tenant that got the tokens

    Scenario: A room stays its owner's while LiveKit runs it, even when its metadata is lost
      Given tenant "acme" got a token to room "support-42"
      And LiveKit lost the metadata of room "support-42"
      When tenant "globex" asks for a token to room "support-42" as "Eve" with the identity "eve-9"
      Then the response status is 403
      And the error code is "room_access_denied"

    Scenario: Once LiveKit has finished a room, another tenant may use its name
      Given tenant "acme" got a token to room "support-42"
      When LiveKit reports that room "support-42" has finished
      And tenant "globex" asks for a token to room "support-42" as "Eve" with the identity "eve-9"
      Then the response status is 200
      And room "support-42" belongs to tenant "globex"

    Scenario: A room whose metadata is not JSON cannot be claimed
      Given room "legacy" exists with the metadata 'owner=ops'
      When tenant "acme" asks for a token to room "legacy" as "Alex" with the identity "alex-1"
      Then the response status is 500
      And the error code is "room_metadata_invalid"
      And room "legacy" keeps the metadata "owner=ops"

    Scenario: A request without an API token is refused
      When I ask for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 401
      And room "support-42" does not exist in LiveKit

    Scenario: LiveKit fails while the room is prepared
      Given LiveKit answers ListRooms with the error "internal": "database is down"
      When tenant "acme" asks for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 500
      And the error code is "livekit_error"
      And the error message contains "Failed to prepare room"

  Rule: Without a reachable, configured LiveKit no token is issued

    Scenario: LiveKit credentials are not configured
      Given no LiveKit API key and secret are configured
      When I ask for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 500
      And the error code is "livekit_not_configured"

    Scenario: LiveKit cannot be reached while a tenant's room is prepared
      Given LiveKit cannot be reached
      And tenant "acme" has the API secret "acme-secret-1"
      When tenant "acme" asks for a token to room "support-42" as "Alex" with the identity "alex-1"
      Then the response status is 500
      And the error code is "livekit_unreachable"
