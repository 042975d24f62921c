Feature: Recording a LiveKit room
  A tenant records the audio of one of its LiveKit rooms through the API: POST starts it, GET tells how
  it is going, DELETE stops it. LiveKit writes the recording as an Ogg file into the recording storage
  (an S3-compatible bucket or Google Cloud Storage) at "{RECORDING_PREFIX}/{stream_id}/audio.ogg", where
  GET /recording/{stream_id} downloads it. The recording belongs to the tenant that started it. A
  tenant can only record its own rooms: another tenant's room answers like a room that does not exist.

  Background:
    Given LiveKit is connected
    And tenant "acme" has the API secret "acme-secret-1"
    And tenant "globex" has the API secret "globex-secret-2"
    And room "acme-support" belongs to tenant "acme"
    And room "globex-sales" belongs to tenant "globex"

  Rule: A tenant records its room, stops it, and downloads what LiveKit recorded

    Scenario Outline: Recording a room into <storage> and downloading the recording
      Given recordings are kept in <storage>
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the recording of room "acme-support" is "starting" as the stream "standup-1"
      When tenant "acme" asks how the recording of room "acme-support" is going
      Then the recording of room "acme-support" is "active" as the stream "standup-1"
      When tenant "acme" stops recording room "acme-support"
      Then the recording of room "acme-support" is "ending" as the stream "standup-1"
      When tenant "acme" asks how the recording of room "acme-support" is going
      Then the recording of room "acme-support" is "complete" as the stream "standup-1"
      And tenant "acme" downloads the recording "standup-1" and receives the Ogg audio LiveKit recorded

      Examples:
        | storage      |
        | an S3 bucket |
        | a GCS bucket |

    Scenario: LiveKit is asked for an audio-only Ogg recording at the recording's key
      Given the setting RECORDING_PREFIX is "rooms/eu"
      And recordings are kept in an S3 bucket
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the response status is 200
      And LiveKit was asked to record room "acme-support" as audio-only Ogg at "rooms/eu/standup-1/audio.ogg"
      And LiveKit uploads the recording to the S3 bucket as belonging to tenant "acme"

    Scenario: A room name may contain a slash
      Given recordings are kept in an S3 bucket
      And room "team/alpha" belongs to tenant "acme"
      When tenant "acme" starts recording room "team/alpha" as the stream "team-1"
      Then the recording of room "team/alpha" is "starting" as the stream "team-1"
      And LiveKit was asked to record room "team/alpha" as audio-only Ogg at "team-1/audio.ogg"

    Scenario: A recording started without a stream id is named by a new UUID
      Given recordings are kept in an S3 bucket
      When tenant "acme" starts recording room "acme-support"
      Then the response status is 200
      And the recording's stream id is a new UUID
      And the recording can be downloaded at its "recording_url" once stopped

    Scenario Outline: Another tenant cannot download the recording from <storage>
      Given recordings are kept in <storage>
      And tenant "acme" has recorded room "acme-support" as the stream "standup-1"
      When I download the recording "standup-1" with the token "globex-secret-2"
      Then the response status is 404
      And the error code is "recording_not_found"

      Examples:
        | storage      |
        | an S3 bucket |
        | a GCS bucket |

    Scenario: Without authentication, anyone records any room and the recording has no owner
      Given the server does not require authentication
      And recordings are kept in an S3 bucket
      And room "open-room" exists without an owner
      When I start recording room "open-room" as the stream "open-1"
      Then the recording of room "open-room" is "starting" as the stream "open-1"
      And LiveKit uploads the recording to the S3 bucket without an owner

  Rule: A tenant only records its own rooms

    Scenario Outline: Tenant B cannot <act> tenant A's room, and learns nothing about it
      Given recordings are kept in an S3 bucket
      And tenant "acme" is recording room "acme-support" as the stream "standup-1"
      When tenant "globex" sends <method> "/livekit/rooms/acme-support/recording"
      Then the response status is 404
      And the error code is "room_not_found"
      And the error message contains "Room 'acme-support' not found or not accessible"
      And the recording of room "acme-support" by tenant "acme" is still "active"

      Examples:
        | act                          | method |
        | start recording              | POST   |
        | see the recording of         | GET    |
        | stop the recording of        | DELETE |

    Scenario: A room that does not exist cannot be recorded
      Given recordings are kept in an S3 bucket
      When tenant "acme" sends POST "/livekit/rooms/nowhere/recording"
      Then the response status is 404
      And the error code is "room_not_found"
      And LiveKit was not asked to record any room

  Rule: One recording at a time per room, and a stream id is never reused

    Scenario: A room that is already being recorded
      Given recordings are kept in an S3 bucket
      And tenant "acme" is recording room "acme-support" as the stream "standup-1"
      When tenant "acme" starts recording room "acme-support" as the stream "standup-2"
      Then the response status is 409
      And the error code is "recording_in_progress"

    Scenario Outline: A stream id that already names a recording in <storage> is refused
      Given recordings are kept in <storage>
      And the recording "call-7" holds 2000 bytes of audio and belongs to tenant "globex"
      When tenant "acme" starts recording room "acme-support" as the stream "call-7"
      Then the response status is 409
      And the error code is "recording_exists"
      And LiveKit was not asked to record any room

      Examples:
        | storage      |
        | an S3 bucket |
        | a GCS bucket |

    Scenario: A stream id being recorded in another room is refused
      Given recordings are kept in a GCS bucket
      And tenant "globex" is recording room "globex-sales" as the stream "shared-name"
      When tenant "acme" starts recording room "acme-support" as the stream "shared-name"
      Then the response status is 409
      And the error code is "recording_exists"

    Scenario: A malformed stream id is refused
      Given recordings are kept in an S3 bucket
      When tenant "acme" starts recording room "acme-support" as the stream "../other-tenant"
      Then the response status is 400
      And the error code is "invalid_stream_id"
      And LiveKit was not asked to record any room

    Scenario: Stopping a room that is not being recorded
      Given recordings are kept in an S3 bucket
      When tenant "acme" stops recording room "acme-support"
      Then the response status is 404
      And the error code is "recording_not_found"

    Scenario: A room that was never recorded has no recording to show
      Given recordings are kept in an S3 bucket
      When tenant "acme" asks how the recording of room "acme-support" is going
      Then the response status is 404
      And the error code is "recording_not_found"

  Rule: Recording needs an object store LiveKit can upload to, and a working LiveKit

    Scenario: Recordings kept in a local directory cannot be started
      Given recordings are kept in a local directory
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the response status is 503
      And the error code is "recording_storage_unsupported"
      And LiveKit was not asked to record any room

    Scenario: Recording storage is turned off
      Given the setting RECORDING_BACKEND is "none"
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the response status is 503
      And the error code is "storage_not_configured"

    Scenario: LiveKit refuses to start the recording
      Given recordings are kept in an S3 bucket
      And LiveKit answers StartRoomCompositeEgress with the error "unavailable": "no egress workers available"
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the response status is 500
      And the error code is "recording_failed"
      And the error message contains "no egress workers available"
      And the error message does not contain "test-secret-key"

    Scenario Outline: After LiveKit refused to start, the same stream id can be used again (<storage>)
      Given recordings are kept in <storage>
      And LiveKit answers StartRoomCompositeEgress with the error "unavailable": "no egress workers available"
      And tenant "acme" tried to record room "acme-support" as the stream "standup-1"
      And LiveKit has egress workers again
      When tenant "acme" starts recording room "acme-support" as the stream "standup-1"
      Then the recording of room "acme-support" is "starting" as the stream "standup-1"

      Examples:
        | storage      |
        | an S3 bucket |
        | a GCS bucket |

    Scenario: A recording whose upload fails reports why
      Given recordings are kept in an S3 bucket
      And tenant "acme" is recording room "acme-support" as the stream "standup-1"
      And LiveKit's upload of the recording will fail with "AccessDenied: bucket policy"
      When tenant "acme" stops recording room "acme-support"
      And tenant "acme" asks how the recording of room "acme-support" is going
      Then the recording of room "acme-support" is "failed" as the stream "standup-1"
      And the response field "error" is "AccessDenied: bucket policy"
