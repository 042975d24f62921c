Feature: LiveKit room management
  Tenants list their LiveKit rooms, look inside one, remove a participant or mute a participant's
  track. A tenant only ever sees and moderates its own rooms: another tenant's room answers exactly
  like a room that does not exist.

  Background:
    Given LiveKit is connected
    And tenant "acme" has the API secret "acme-secret-1"
    And tenant "globex" has the API secret "globex-secret-2"
    And room "acme-support" belongs to tenant "acme"
    And "alex" is in room "acme-support" publishing the track "TR_mic"
    And "bot" is in room "acme-support"
    And room "globex-sales" belongs to tenant "globex"
    And room "unclaimed" exists without an owner

  Rule: Listing rooms

    Scenario: A tenant lists only its own rooms
      When tenant "acme" sends GET "/livekit/rooms"
      Then the listed rooms are "acme-support"
      And the response JSON is:
        """
        {"rooms": [{"name": "acme-support", "num_participants": 2, "creation_time": 1703123456}]}
        """

    Scenario: Nothing of tenant A's rooms appears in tenant B's listing
      When tenant "globex" lists its rooms
      Then the listed rooms are "globex-sales"

    Scenario: LiveKit fails while listing
      Given LiveKit answers ListRooms with the error "unavailable": "node draining"
      When tenant "acme" lists its rooms
      Then the response status is 500
      And the error code is "livekit_error"
      And the error message contains "Failed to list rooms"

  Rule: Looking inside a room

    Scenario: A tenant sees its room and the participants in it
      When tenant "acme" looks inside room "acme-support"
      Then the response status is 200
      And the response field "name" is "acme-support"
      And the response field "num_participants" is "2"
      And the response field "metadata" is "{"auth_id": "acme"}"
      And the room shows "alex" as a ACTIVE STANDARD participant

    Scenario: A room name may contain a slash
      Given room "team/alpha" belongs to tenant "acme"
      When tenant "acme" sends GET "/livekit/rooms/team%2Falpha"
      Then the response status is 200
      And the response field "name" is "team/alpha"

    Scenario: A room that does not exist
      When tenant "acme" looks inside room "nowhere"
      Then the response status is 404
      And the error code is "room_not_found"
      And the error message contains "Room 'nowhere' not found or not accessible"

    Scenario: Tenant B cannot inspect tenant A's room, and learns nothing about it
      When tenant "globex" looks inside room "acme-support"
      Then the response status is 404
      And the error code is "room_not_found"
      And the error message contains "Room 'acme-support' not found or not accessible"
      And the error message does not contain "alex"

    Scenario: A room nobody owns is not shown to a tenant
      When tenant "acme" looks inside room "unclaimed"
      Then the response status is 404
      And the error code is "room_not_found"

    Scenario: A blank room name is refused
      When tenant "acme" sends GET "/livekit/rooms/%20"
      Then the response status is 400
      And the error code is "invalid_request"

    Scenario: LiveKit fails while the room is read
      Given LiveKit answers ListParticipants with the error "internal": "participant store down"
      When tenant "acme" looks inside room "acme-support"
      Then the response status is 500
      And the error message contains "Failed to access room"

  Rule: Removing a participant

    Scenario: A tenant removes a participant from its room
      When tenant "acme" sends DELETE "/livekit/participant" with the JSON body:
        """
        {"room_name": "acme-support", "participant_identity": "bot"}
        """
      Then the response status is 200
      And the response JSON is:
        """
        {"status": "removed", "room_name": "acme-support", "participant_identity": "bot"}
        """
      And "bot" is no longer in room "acme-support"

    Scenario: A participant who is not in the room
      When tenant "acme" removes "ghost" from room "acme-support"
      Then the response status is 404
      And the error code is "participant_not_found"
      And the error message contains "Participant 'ghost' not found in room 'acme-support'"

    Scenario: Tenant B cannot remove anyone from tenant A's room
      When tenant "globex" removes "alex" from room "acme-support"
      Then the response status is 404
      And the error code is "participant_not_found"
      And "alex" is still in room "acme-support"
      And LiveKit did not remove anyone

    Scenario: An empty identity is refused
      When tenant "acme" removes " " from room "acme-support"
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "participant_identity"

    Scenario: LiveKit fails to remove the participant
      Given LiveKit answers RemoveParticipant with the error "internal": "signal node lost"
      When tenant "acme" removes "bot" from room "acme-support"
      Then the response status is 500
      And the error code is "removal_failed"

  Rule: Muting a participant's track

    Scenario: A tenant mutes a participant's microphone
      When tenant "acme" sends POST "/livekit/participant/mute" with the JSON body:
        """
        {"room_name": "acme-support", "participant_identity": "alex", "track_sid": "TR_mic", "muted": true}
        """
      Then the response status is 200
      And the response JSON is:
        """
        {"room_name": "acme-support", "participant_identity": "alex", "track_sid": "TR_mic", "muted": true}
        """
      And the track "TR_mic" of "alex" in room "acme-support" is muted

    Scenario: A track that does not exist
      When tenant "acme" mutes the track "TR_camera" of "alex" in room "acme-support"
      Then the response status is 404
      And the error code is "participant_not_found"

    Scenario: Tenant B cannot mute anyone in tenant A's room
      When tenant "globex" mutes the track "TR_mic" of "alex" in room "acme-support"
      Then the response status is 404
      And the error code is "participant_not_found"
      And the track "TR_mic" of "alex" in room "acme-support" is unmuted
      And LiveKit did not mute anything

    Scenario: Whether to mute must be said
      When tenant "acme" asks about the track "TR_mic" of "alex" in room "acme-support" without saying whether to mute it
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "muted"

    Scenario: LiveKit fails to mute
      Given LiveKit answers MutePublishedTrack with the error "internal": "track state lost"
      When tenant "acme" mutes the track "TR_mic" of "alex" in room "acme-support"
      Then the response status is 500
      And the error code is "mute_failed"

  Rule: An open server isolates nobody, and needs LiveKit configured

    Background:
      Given the server does not require authentication

    Scenario: Without authentication every room is listed
      When I list the rooms
      Then the listed rooms are "acme-support, globex-sales, unclaimed"

    Scenario: Room management without LiveKit credentials
      Given no LiveKit API key and secret are configured
      When I list the rooms
      Then the response status is 500
      And the error code is "livekit_not_configured"
