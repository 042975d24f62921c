Feature: Speak
  POST /speak turns text into audio. Out of the box it uses the built-in offline voice, which needs no
  key; Deepgram, ElevenLabs, Google, Azure, Cartesia and OpenAI speak when their credentials are
  configured on the server or brought by the request itself. The request comes in two forms: the
  flat form of the REST guide ("text", "provider", "voice_id", ...) and the nested form the official SDKs
  send ("text" plus "tts_config"). The answer is JSON with base64 audio, or the audio itself, as the client
  asks through its Accept header. Identical requests are synthesized once and then served from the cache.
  Every prompt also has a URL, GET /speak?text=..., that answers the audio itself: an <audio> element or any
  player can play it, seek in it, and cache it.

  Rule: The offline voice speaks out of the box

    Scenario: The flat form answers JSON with the audio in base64
      Given the server runs on its embedded defaults
      When I ask to speak "Welcome to Sayna"
      Then the response status is 200
      And I receive JSON whose audio is 16-bit PCM speech at 24000 Hz
      And the response field "metadata.provider" is "local"
      And the response field "metadata.voice_id" is "en-us"
      And the response was synthesized
      And the audio headers say "linear16" at "24000" Hz by "local" with voice "en-us"

    Scenario: A client that asks for a WAV file receives a playable WAV
      Given the server runs on its embedded defaults
      When I ask to speak "Welcome to Sayna" accepting "audio/wav"
      Then the response status is 200
      And I receive a playable "audio/wav" file of speech at 24000 Hz

    Scenario: The nested form of the SDKs answers the audio itself
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "Welcome to Sayna",
         "tts_config": {"provider": "local", "model": "", "voice_id": null, "speaking_rate": 1.0,
                        "audio_format": null, "sample_rate": null, "connection_timeout": null,
                        "request_timeout": null, "pronunciations": [], "auth": null}}
        """
      Then the response status is 200
      And I receive "audio/pcm" audio bytes
      And the audio headers say "linear16" at "24000" Hz by "local" with voice "en-us"

    Scenario: The nested form answers JSON when the client asks for JSON
      Given the server runs on its embedded defaults
      When I POST "/speak" accepting "application/json" with the JSON body:
        """
        {"text": "Welcome to Sayna", "tts_config": {"provider": "local", "model": ""}}
        """
      Then the response status is 200
      And I receive JSON whose audio is 16-bit PCM speech at 24000 Hz

    Scenario: The flat form answers the audio itself when the client asks for bytes
      Given the server runs on its embedded defaults
      When I POST "/speak" accepting "application/octet-stream" with the JSON body:
        """
        {"text": "Welcome to Sayna", "audio_format": "wav", "sample_rate": 16000}
        """
      Then the response status is 200
      And I receive a playable "audio/wav" file of speech at 16000 Hz

    Scenario Outline: Every audio format is delivered
      Given the server runs on its embedded defaults
      When I POST "/speak" accepting "audio/*" with the JSON body:
        """
        {"text": "Your call is important to us", "audio_format": "<format>", "sample_rate": <rate>}
        """
      Then the response status is 200
      And I receive "<content type>" audio bytes
      And the audio headers say "<format>" at "<rate>" Hz by "local" with voice "en-us"

      Examples:
        | format   | rate  | content type |
        | linear16 | 8000  | audio/pcm    |
        | wav      | 44100 | audio/wav    |
        | mp3      | 22050 | audio/mpeg   |
        | ogg      | 48000 | audio/ogg    |
        | mulaw    | 8000  | audio/basic  |
        | flac     | 32000 | audio/flac   |

    Scenario: Another offline voice can be chosen from the catalog
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "Good morning", "voice_id": "gmw/en-US+f3"}
        """
      Then the response status is 200
      And the response field "metadata.voice_id" is "gmw/en-US+f3"

  Rule: Every prompt has a URL that answers the audio itself

    Scenario: A browser plays a prompt's URL
      Given the server runs on its embedded defaults
      When I GET "/speak?text=Welcome%20to%20Sayna&voice_id=gmw/en-US"
      Then the response status is 200
      And I receive a playable "audio/wav" file of speech at 24000 Hz
      And the audio headers say "wav" at "24000" Hz by "local" with voice "gmw/en-US"
      And the response header "Cache-Control" is "public, max-age=2592000, immutable"
      And the response header "Accept-Ranges" is "bytes"

    Scenario: The URL takes the flat form's fields
      Given the server runs on its embedded defaults
      When I GET "/speak?text=Hello&provider=local&audio_format=mp3&sample_rate=22050&speaking_rate=1.2"
      Then the response status is 200
      And I receive "audio/mpeg" audio bytes
      And the audio headers say "mp3" at "22050" Hz by "local" with voice "en-us"

    Scenario: A player seeks with a byte range
      Given the server runs on its embedded defaults
      When I GET "/speak?text=Welcome" asking for the bytes 100-199
      Then the response status is 206
      And I receive the bytes 100-199 of the audio

    Scenario: A browser that has the audio already is told so
      Given the server runs on its embedded defaults
      When I GET "/speak?text=Welcome"
      And I GET "/speak?text=Welcome" again with the ETag it answered
      Then the response status is 304
      And I receive no body

    Scenario: A POST names the URL of the same recording
      Given the server runs on its embedded defaults
      When I POST "/speak" accepting "audio/wav" with the JSON body:
        """
        {"text": "Welcome to Sayna", "provider": "local"}
        """
      Then the response header "Content-Location" is "/speak?text=Welcome%20to%20Sayna&provider=local"

    Scenario: A bad field in the URL is refused like in the body
      Given the server runs on its embedded defaults
      When I GET "/speak?text=Hello&sample_rate=fast"
      Then the response status is 400
      And the error message contains "sample_rate: Not a valid integer."

    Scenario: With AUTH_REQUIRED the URL carries the token and the answer is private
      Given tenant "acme" has the API secret "acme-secret-1"
      When I GET "/speak?text=Hello&api_key=acme-secret-1"
      Then the response status is 200
      And the response header "Cache-Control" is "private"

  Rule: Identical requests are synthesized once

    Scenario: The second identical request is served from the cache
      Given Deepgram is available
      When I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 200
      And the response was synthesized
      When I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 200
      And the response was served from the cache
      And Deepgram was called 1 time

    Scenario: A different voice is a different recording
      Given Deepgram is available
      When I ask Deepgram to speak "Welcome to Sayna" with the voice "aura-2-thalia-en"
      And I ask Deepgram to speak "Welcome to Sayna" with the voice "aura-2-zeus-en"
      Then the response was synthesized
      And Deepgram was called 2 times

    Scenario: Timeouts do not change the recording
      Given Deepgram is available
      When I POST "/speak" with the JSON body:
        """
        {"text": "Please hold", "tts_config": {"provider": "deepgram", "model": "", "request_timeout": 30}}
        """
      And I POST "/speak" with the JSON body:
        """
        {"text": "Please hold", "tts_config": {"provider": "deepgram", "model": "", "request_timeout": 60}}
        """
      Then the response was served from the cache
      And Deepgram was called 1 time

    Scenario: With caching switched off every request reaches the provider
      Given Deepgram is available
      And the setting CACHE_ENABLED is "false"
      When I ask Deepgram to speak "Welcome to Sayna"
      And I ask Deepgram to speak "Welcome to Sayna"
      Then the response was synthesized
      And Deepgram was called 2 times

    Scenario: A damaged cache file is never served and the audio is synthesized again
      Given Deepgram is available
      When I ask Deepgram to speak "Welcome to Sayna"
      And the cached audio file is damaged on disk
      And I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 200
      And the response was synthesized
      And Deepgram was called 2 times

    Scenario: A failed synthesis is not cached
      Given Deepgram is available
      And Deepgram fails 3 times in a row with status 503
      When I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 500
      When I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 200
      And the response was synthesized

  Rule: Providers receive explicit, complete requests

    Scenario: Deepgram is asked for the exact encoding, container and rate, and the words are rewritten first
      Given Deepgram is available
      When I POST "/speak" with the JSON body:
        """
        {"text": "Welcome to Sayna",
         "tts_config": {"provider": "deepgram", "model": "", "voice_id": "aura-2-zeus-en", "audio_format": "linear16",
                        "sample_rate": 16000, "pronunciations": [{"word": "Sayna", "pronunciation": "Say nah"}]}}
        """
      Then the response status is 200
      And Deepgram was asked with "model=aura-2-zeus-en&encoding=linear16&container=none&sample_rate=16000"
      And Deepgram was asked to say "Welcome to Say nah" with its key
      And the audio headers say "linear16" at "16000" Hz by "deepgram" with voice "aura-2-zeus-en"

    Scenario: ElevenLabs receives the voice and its settings
      Given ElevenLabs is available
      When I POST "/speak" with the JSON body:
        """
        {"text": "Welcome to Sayna", "provider": "elevenlabs", "voice_id": "21m00Tcm4TlvDq8ikWAM",
         "voice_settings": {"stability": 0.4, "similarity_boost": 0.8}, "audio_format": "wav", "sample_rate": 16000}
        """
      Then the response status is 200
      And ElevenLabs was asked for voice "21m00Tcm4TlvDq8ikWAM" in "wav_16000" with its key
      And ElevenLabs received the voice settings {"stability": 0.4, "similarity_boost": 0.8}
      And the response field "metadata.audio_format" is "wav"

    Scenario: A format the provider cannot produce is converted
      Given ElevenLabs is available
      When I POST "/speak" accepting "audio/flac" with the JSON body:
        """
        {"text": "Welcome to Sayna", "provider": "elevenlabs"}
        """
      Then the response status is 200
      And ElevenLabs was asked for voice "21m00Tcm4TlvDq8ikWAM" in "pcm_24000" with its key
      And I receive a playable "audio/flac" file at 24000 Hz

    Scenario: Busy providers are retried a bounded number of times
      Given Deepgram is available
      And Deepgram fails 2 times in a row with status 503
      When I ask Deepgram to speak "Welcome to Sayna"
      Then the response status is 200
      And Deepgram was called 3 times

  Rule: Bad requests are refused with 400

    Scenario Outline: Text with nothing to say is refused
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        <body>
        """
      Then the response status is 400
      And the error message contains "<message>"

      Examples:
        | body                                                             | message                                  |
        | {"text": ""}                                                     | Text cannot be empty                     |
        | {"text": "   "}                                                  | Text cannot be empty                     |
        | {"text": "\u000e\u001f \u200b"}                                  | Text cannot be empty                     |
        | {"provider": "local"}                                            | text: Missing data for required field.   |
        | {"text": "  ", "tts_config": {"provider": "local", "model": ""}} | Text cannot be empty                     |

    Scenario: An unknown provider is refused
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "Hello", "provider": "acme-voices"}
        """
      Then the response status is 400
      And the error code is "unsupported_provider"
      And the error message contains "Unsupported provider: acme-voices"

    Scenario Outline: A format or sample rate that cannot be delivered is refused
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "Hello", "audio_format": "<format>", "sample_rate": <rate>}
        """
      Then the response status is 400
      And the error code is "unsupported_audio_format"

      Examples:
        | format | rate  |
        | aac    | 24000 |
        | wav    | 96000 |
        | wav    | 4000  |
        | ogg    | 22050 |

    Scenario: Text longer than the provider accepts is refused before it is sent
      Given Deepgram is available
      When I ask Deepgram to speak a text of 2001 characters
      Then the response status is 400
      And the error code is "text_too_long"
      And Deepgram was called 0 times

    Scenario: A body that is not JSON is refused
      Given the server runs on its embedded defaults
      When I POST "/speak" with the body "{text: hello"
      Then the response status is 400
      And the error code is "invalid_request"

    Scenario: Text no layer could store is refused, not half-processed
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "Hello \ud800"}
        """
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "unpaired surrogate"

    Scenario: Pronunciations that would multiply the text past the limit are refused before it is built
      Given the server runs on its embedded defaults
      When I POST "/speak" with the JSON body:
        """
        {"text": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "pronunciations": [{"word": "a", "pronunciation": "aaaaaaaaaa"}, {"word": "a", "pronunciation": "aaaaaaaaaa"},
                            {"word": "a", "pronunciation": "aaaaaaaaaa"}, {"word": "a", "pronunciation": "aaaaaaaaaa"},
                            {"word": "a", "pronunciation": "aaaaaaaaaa"}, {"word": "a", "pronunciation": "aaaaaaaaaa"},
                            {"word": "a", "pronunciation": "aaaaaaaaaa"}, {"word": "a", "pronunciation": "aaaaaaaaaa"},
                            {"word": "a", "pronunciation": "aaaaaaaaaa"}]}
        """
      Then the response status is 400
      And the error code is "text_too_long"
      And the error message contains "text is 40000 characters long"

    Scenario: A voice the provider does not know is refused
      Given Deepgram is available
      When I ask Deepgram to speak "Hello" with the voice "aura-2-nobody-en"
      Then the response status is 400
      And the error code is "provider_rejected_request"
      And the error message contains "No such model"

  Rule: Every provider speaks every format, at the rate asked for

    Scenario Outline: A provider delivers a format
      Given the provider "<provider>" is available
      When I ask "<provider>" to speak "Your call is important to us" as "<format>" at <rate> Hz
      Then I receive "<format>" audio at <rate> Hz
      And the response header "x-provider" is "<provider>"

      Examples:
        | provider   | format   | rate  |
        | local      | linear16 | 16000 |
        | local      | wav      | 24000 |
        | local      | mp3      | 44100 |
        | local      | ogg      | 48000 |
        | local      | mulaw    | 8000  |
        | local      | flac     | 22050 |
        | deepgram   | linear16 | 16000 |
        | deepgram   | wav      | 24000 |
        | deepgram   | mp3      | 44100 |
        | deepgram   | ogg      | 48000 |
        | deepgram   | mulaw    | 8000  |
        | deepgram   | flac     | 22050 |
        | elevenlabs | linear16 | 16000 |
        | elevenlabs | wav      | 24000 |
        | elevenlabs | mp3      | 44100 |
        | elevenlabs | ogg      | 48000 |
        | elevenlabs | mulaw    | 8000  |
        | elevenlabs | flac     | 22050 |
        | google     | linear16 | 16000 |
        | google     | wav      | 24000 |
        | google     | mp3      | 44100 |
        | google     | ogg      | 48000 |
        | google     | mulaw    | 8000  |
        | google     | flac     | 22050 |
        | azure      | linear16 | 32000 |
        | azure      | wav      | 24000 |
        | azure      | mp3      | 44100 |
        | azure      | ogg      | 48000 |
        | azure      | mulaw    | 8000  |
        | azure      | flac     | 22050 |
        | cartesia   | linear16 | 16000 |
        | cartesia   | wav      | 24000 |
        | cartesia   | mp3      | 44100 |
        | cartesia   | ogg      | 48000 |
        | cartesia   | mulaw    | 8000  |
        | cartesia   | flac     | 22050 |
        | openai     | linear16 | 24000 |
        | openai     | wav      | 16000 |
        | openai     | mp3      | 24000 |
        | openai     | ogg      | 48000 |
        | openai     | mulaw    | 8000  |
        | openai     | flac     | 24000 |

    Scenario: Azure is also called by its upstream name
      Given Azure is available
      When I ask "microsoft-azure" to speak "Hello" as "wav" at 16000 Hz
      Then I receive "wav" audio at 16000 Hz
      And the response header "x-provider" is "azure"

  Rule: A request may bring its own provider credentials, checked as the upstream server checks them

    Scenario: A request's own key and region are used instead of the server's
      Given Azure is available
      And Azure also accepts the key "tenant-key-1" in the region "eastus"
      When I ask "azure" to speak "Hello" with the credentials {"api_key": "tenant-key-1", "region": "eastus"}
      Then the response status is 200
      And Azure was called in the region "eastus" with the key "tenant-key-1"

    Scenario: Empty credentials mean the server's own
      Given Deepgram is available
      When I ask "deepgram" to speak "Hello" with the credentials {}
      Then the response status is 200
      And Deepgram was called with the key "dg-test-key"

    Scenario Outline: Credentials that do not fit the provider are refused before any call
      Given every provider is available
      When I ask "<provider>" to speak "Hello" with the credentials <auth>
      Then the response status is 400
      And the error code is "invalid_provider_auth"
      And the error message contains "<message>"
      And no provider was called

      Examples:
        | provider   | auth                                   | message                                                          |
        | deepgram   | {"api_key": "k", "token": "t"}         | Unsupported auth field(s) for provider deepgram: token           |
        | elevenlabs | {"key": "k"}                           | Unsupported auth field(s) for provider elevenlabs: key           |
        | cartesia   | {"api_key": 42}                        | Auth field 'api_key' must be a string for provider cartesia      |
        | openai     | {"api_key": ""}                        | Auth field 'api_key' is required for provider openai             |
        | azure      | {"api_key": "k"}                       | Auth field 'region' is required for provider azure               |
        | azure      | {"api_key": "k", "region": "a.b/c"}    | Auth field 'region' must be an Azure region name                 |
        | google     | {"credentials": ""}                    | Auth field 'credentials' is required for provider google         |
        | google     | {"credentials": 7}                     | Auth field 'credentials' must be a string or JSON object         |
        | google     | {"api_key": "k"}                       | Unsupported auth field(s) for provider google: api_key           |
        | google     | {"credentials": "/no/such/creds.json"} | Credential file not found: /no/such/creds.json                   |
        | local      | {"api_key": "k"}                       | Unsupported auth field(s) for provider local: api_key            |

    Scenario Outline: Credentials the provider refuses are the caller's error, never echoed
      Given the provider "<provider>" is available
      When I ask "<provider>" to speak "Hello" with the credentials <auth>
      Then the response status is 400
      And the error code is "provider_auth_failed"
      And the error message does not contain "<secret>"

      Examples:
        | provider   | auth                                               | secret              |
        | deepgram   | {"api_key": "dg-tenant-wrong-1"}                   | dg-tenant-wrong-1   |
        | elevenlabs | {"api_key": "el-tenant-wrong-2"}                   | el-tenant-wrong-2   |
        | azure      | {"api_key": "az-tenant-wrong-3", "region": "eastus"} | az-tenant-wrong-3 |
        | cartesia   | {"api_key": "ca-tenant-wrong-4"}                   | ca-tenant-wrong-4   |
        | openai     | {"api_key": "sk-tenant-wrong-5555"}                | sk-tenant-wrong-5555 |

    Scenario: The server's own Google credentials file missing is a server error
      Given the server's Google credentials are the file "/no/such/server-creds.json"
      When I ask "google" to speak "Hello" with the credentials {}
      Then the response status is 500
      And the error code is "provider_not_configured"
      And the error message contains "Credential file not found: /no/such/server-creds.json"

    Scenario: Another key is another recording
      Given Azure is available
      And Azure also accepts the key "tenant-key-1" in the region "westeurope"
      When I ask "azure" to speak "Hello" with the credentials {}
      And I ask "azure" to speak "Hello" with the credentials {"api_key": "tenant-key-1", "region": "westeurope"}
      Then the response was synthesized
      And Azure was called 2 times

  Rule: Provider failures are 500s naming the provider, never its key

    Scenario: A provider without a key
      Given the server runs on its embedded defaults
      When I ask Deepgram to speak "Hello"
      Then the response status is 500
      And the error code is "provider_not_configured"
      And the error message contains "Missing server auth for provider deepgram"

    Scenario: A provider that refuses the server's key
      Given Deepgram is available
      And the setting DEEPGRAM_API_KEY is "dg-revoked-key-123"
      When I ask Deepgram to speak "Hello"
      Then the response status is 500
      And the error code is "provider_auth_failed"
      And the error message contains "deepgram"
      And the error message contains "Invalid credentials"
      And the error message does not contain "dg-revoked-key-123"

    Scenario: A provider that keeps failing
      Given ElevenLabs is available
      And ElevenLabs fails 3 times in a row with status 503
      When I POST "/speak" with the JSON body:
        """
        {"text": "Hello", "provider": "elevenlabs"}
        """
      Then the response status is 500
      And the error code is "provider_error"
      And the error message contains "elevenlabs failed (503)"

    Scenario: A provider that cannot be reached
      Given Deepgram cannot be reached
      When I ask Deepgram to speak "Hello"
      Then the response status is 500
      And the error code is "provider_unreachable"
      And the error message contains "deepgram"

  Rule: With AUTH_REQUIRED only callers with a token may speak

    Scenario: A request without a token is refused
      Given tenant "acme" has the API secret "acme-secret-1"
      When I ask to speak "Hello"
      Then the response status is 401

    Scenario: A request with a token is served
      Given tenant "acme" has the API secret "acme-secret-1"
      When I POST "/speak" with the token "acme-secret-1" and the JSON body:
        """
        {"text": "Hello"}
        """
      Then the response status is 200
