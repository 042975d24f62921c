Feature: Recordings
  When a session ends, its audio recording is kept as an Ogg file, in an S3-compatible object store
  (AWS S3, MinIO, Ceph, R2...), in Google Cloud Storage or in a local directory of the server, at
  "{RECORDING_PREFIX}/{stream_id}/audio.ogg". GET /recording/{stream_id} downloads it as
  "{stream_id}.ogg", streamed, however long the recording. Players can also ask for its size only (HEAD),
  for one part of it (Range, to seek), and whether the copy they have is still current (ETag).

  Rule: A stored recording is downloaded as an Ogg file named after its stream

    Scenario Outline: Downloading a recording from <storage>
      Given recordings are kept in <storage>
      And the recording "call-42" holds 48000 bytes of audio
      When I download the recording "call-42"
      Then I receive the 48000 bytes of the recording "call-42" as "call-42.ogg"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: Recordings are looked up under the configured prefix in <storage>
      Given the setting RECORDING_PREFIX is "rooms/eu"
      And recordings are kept in <storage>
      And the recording "550e8400-e29b-41d4-a716-446655440000" holds 3000 bytes of audio
      When I download the recording "550e8400-e29b-41d4-a716-446655440000"
      Then I receive the 3000 bytes of the recording "550e8400-e29b-41d4-a716-446655440000" as "550e8400-e29b-41d4-a716-446655440000.ogg"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: A recording that does not exist in <storage>
      Given recordings are kept in <storage>
      When I download the recording "call-404"
      Then the response status is 404
      And the error code is "recording_not_found"
      And the error message contains "call-404"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

  Rule: Players can ask for the size, for a part, and whether their copy is current

    Scenario Outline: Asking only for the size of a recording in <storage>
      Given recordings are kept in <storage>
      And the recording "call-42" holds 3000 bytes of audio
      When I ask for the size of the recording "call-42"
      Then I am told the recording has 3000 bytes, without the audio

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: A player seeks to bytes <range> of a recording in <storage>
      Given recordings are kept in <storage>
      And the recording "call-42" holds 3000 bytes of audio
      When a player asks for the bytes "<range>" of the recording "call-42"
      Then the player receives bytes <first> to <last> of the recording "call-42"

      Examples:
        | storage           | range     | first | last |
        | an S3 bucket      | 1000-1999 | 1000  | 1999 |
        | a local directory | 1000-1999 | 1000  | 1999 |
        | an S3 bucket      | 2900-     | 2900  | 2999 |
        | a GCS bucket      | 1000-1999 | 1000  | 1999 |
        | a GCS bucket      | -100      | 2900  | 2999 |
        | a local directory | -100      | 2900  | 2999 |
        | a local directory | 2990-9999 | 2990  | 2999 |

    Scenario Outline: A part beyond the end of a recording in <storage> is refused
      Given recordings are kept in <storage>
      And the recording "call-42" holds 3000 bytes of audio
      When a player asks for the bytes "5000-5999" of the recording "call-42"
      Then the response status is 416
      And the error code is "range_not_satisfiable"
      And the player is told the recording has 3000 bytes

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: A player whose copy of a recording in <storage> is current is told so
      Given recordings are kept in <storage>
      And the recording "call-42" holds 3000 bytes of audio
      And I downloaded the recording "call-42" once
      When I download the recording "call-42" again, presenting the ETag I received
      Then the response status is 304
      And no audio is sent

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: A player resuming from a current copy in <storage> receives only the missing part
      Given recordings are kept in <storage>
      And the recording "call-42" holds 3000 bytes of audio
      And I downloaded the recording "call-42" once
      When a player resumes the bytes "1000-1999" of the recording "call-42" from the copy I received
      Then the player receives bytes 1000 to 1999 of the recording "call-42"

      Examples:
        | storage      |
        | an S3 bucket |
        | a GCS bucket |

    Scenario: A player resuming from an outdated copy receives the whole recording again
      Given recordings are kept in a local directory
      And the recording "call-42" holds 3000 bytes of audio
      When a player resumes the bytes "1000-1999" of the recording "call-42" from a copy with the ETag "outdated"
      Then I receive the 3000 bytes of the recording "call-42" as "call-42.ogg"

  Rule: A malformed stream id is refused before the storage is asked

    Scenario Outline: The stream id <kind> is refused
      Given recordings are kept in an S3 bucket
      When I GET "<path>"
      Then the response status is 400
      And the error code is "invalid_stream_id"
      And the storage was not asked for any recording

      Examples:
        | kind                                 | path                          |
        | ".." climbing out of its folder      | /recording/..                 |
        | with an encoded slash                | /recording/a%2F..%2Fsecret    |
        | with encoded dots                    | /recording/%2E%2E             |
        | encoded twice                        | /recording/%252E%252E%252Fx   |
        | with a backslash                     | /recording/..%5Csecret        |
        | with a NUL character                 | /recording/call-42%00.txt     |
        | with a line break                    | /recording/call%0D%0AX-Evil:1 |
        | with an escape character             | /recording/call%1B[2J         |
        | that is invalid UTF-8                | /recording/%C0%AE%C0%AE       |
        | that is empty                        | /recording/                   |

    Scenario: A stream id longer than 256 bytes is refused
      Given recordings are kept in an S3 bucket
      When I download a recording whose id is 257 characters long
      Then the response status is 400
      And the error code is "invalid_stream_id"
      And the storage was not asked for any recording

  Rule: Storage that is not configured or not working makes recordings unavailable

    Scenario: Recording storage is turned off
      Given the setting RECORDING_BACKEND is "none"
      When I download the recording "call-42"
      Then the response status is 503
      And the error code is "storage_not_configured"

    Scenario Outline: Recording storage <storage>
      Given recordings are kept in <storage>
      When I download the recording "call-42"
      Then the response status is 503
      And the error code is "storage_unavailable"
      And the error message does not contain "test-secret-key"

      Examples:
        | storage                                |
        | an S3 store that cannot be reached     |
        | an S3 store that refuses access        |
        | a GCS store that cannot be reached     |
        | a GCS store that refuses access        |
        | a local directory that is not available |

  Rule: With AUTH_REQUIRED, a recording that names its owner is only served to that tenant

    Background:
      Given tenant "acme" has the API secret "acme-secret"
      And tenant "globex" has the API secret "globex-secret"

    Scenario Outline: The owner downloads its recording from <storage>
      Given recordings are kept in <storage>
      And the recording "call-7" holds 2000 bytes of audio and belongs to tenant "acme"
      When I download the recording "call-7" with the token "acme-secret"
      Then I receive the 2000 bytes of the recording "call-7" as "call-7.ogg"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: Another tenant is told the recording in <storage> does not exist
      Given recordings are kept in <storage>
      And the recording "call-7" holds 2000 bytes of audio and belongs to tenant "acme"
      When I download the recording "call-7" with the token "globex-secret"
      Then the response status is 404
      And the error code is "recording_not_found"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario Outline: A recording without an owner in <storage> is served to every tenant
      Given recordings are kept in <storage>
      And the recording "call-8" holds 2000 bytes of audio
      When I download the recording "call-8" with the token "globex-secret"
      Then I receive the 2000 bytes of the recording "call-8" as "call-8.ogg"

      Examples:
        | storage           |
        | an S3 bucket      |
        | a GCS bucket      |
        | a local directory |

    Scenario: A request without a token is refused before the storage is asked
      Given recordings are kept in an S3 bucket
      And the recording "call-7" holds 2000 bytes of audio and belongs to tenant "acme"
      When I download the recording "call-7"
      Then the response status is 401
      And the storage was not asked for any recording
