Feature: Voices
  GET /voices lists the voices a customer can choose from, grouped by provider: the offline voices
  always, and those of Deepgram, ElevenLabs, Google, Azure, Cartesia and OpenAI when the server's
  credentials for them are configured. Every voice has an id, a name,
  a sample URL (possibly empty), an accent, a gender and a language. Catalogs are kept for a few minutes;
  when a provider fails, its last good catalog is served for a while before the failure is reported.

  Scenario: Without any key the offline voices are listed
    Given the server runs on its embedded defaults
    When I GET "/voices"
    Then the response status is 200
    And the catalog lists only the providers "local"
    And the "local" voice "gmw/en-US" is named "English (America)" with the language "en-us"
    And the "local" voice "gmw/en-US+f3" has the gender "Female"
    And every voice has an id, a name, a sample, an accent, a gender and a language

  Scenario: With keys the Deepgram and ElevenLabs voices are listed too
    Given Deepgram is available
    And ElevenLabs is available
    When I GET "/voices"
    Then the response status is 200
    And the catalog lists only the providers "local, deepgram, elevenlabs"
    And the "deepgram" voice "aura-2-zeus-en" has the gender "Male"
    And the "deepgram" voice "aura-2-thalia-en" has the sample "https://static.deepgram.com/examples/Aura-2-thalia.wav"
    And the "elevenlabs" voice "21m00Tcm4TlvDq8ikWAM" is named "Rachel" with the language "en"
    And the "elevenlabs" voice "21m00Tcm4TlvDq8ikWAM" has the gender "Female"
    And every voice has an id, a name, a sample, an accent, a gender and a language

  Scenario: With every provider configured, all seven are listed
    Given every provider is available
    When I GET "/voices"
    Then the response status is 200
    And the catalog lists only the providers "local, deepgram, elevenlabs, google, azure, cartesia, openai"
    And the "google" voice "en-US-Wavenet-D" is named "Wavenet D" with the language "English"
    And the "google" voice "en-US-Wavenet-D" has the accent "American"
    And the "google" voice "en-GB-Standard-A" has the gender "Female"
    And the "azure" voice "en-GB-RyanNeural" is named "Ryan" with the language "English"
    And the "azure" voice "en-GB-RyanNeural" has the accent "British"
    And the "cartesia" voice "694f9389-aac1-45b6-b726-9d9369183238" is named "Sarah" with the language "English"
    And the "cartesia" voice "694f9389-aac1-45b6-b726-9d9369183238" has the gender "Female"
    And the "cartesia" catalog has 120 voices
    And the "openai" voice "alloy" is named "Alloy" with the language "Multilingual"
    And every voice has an id, a name, a sample, an accent, a gender and a language

  Scenario: Providers are asked in parallel
    Given Deepgram is available
    And ElevenLabs is available
    And Deepgram and ElevenLabs answer their catalogs only while both are being asked
    When I GET "/voices"
    Then the response status is 200
    And the catalog lists only the providers "local, deepgram, elevenlabs"

  Scenario: A catalog is kept for a short time
    Given Deepgram is available
    When I GET "/voices"
    And I GET "/voices"
    Then the response status is 200
    And Deepgram was asked for its catalog 1 time

  Scenario: A provider that fails is served from its last good catalog
    Given Deepgram is available
    And the setting VOICES_CACHE_TTL_SECONDS is "0"
    When I GET "/voices"
    And Deepgram's catalog goes down
    And I GET "/voices"
    Then the response status is 200
    And the catalog lists only the providers "local, deepgram"
    And Deepgram was asked for its catalog again

  Scenario: A provider that fails with no recent catalog is a server error naming it
    Given Deepgram is available
    And Deepgram's catalog goes down
    When I GET "/voices"
    Then the response status is 500
    And the error code is "provider_error"
    And the error message contains "deepgram"

  Scenario: A provider that refuses the server's key is a server error naming it, not the key
    Given ElevenLabs is available
    And the setting ELEVENLABS_API_KEY is "el-revoked-key-456"
    When I GET "/voices"
    Then the response status is 500
    And the error message contains "elevenlabs"
    And the error message does not contain "el-revoked-key-456"

  Scenario: With AUTH_REQUIRED the catalog needs a token
    Given tenant "acme" has the API secret "acme-secret-1"
    When I GET "/voices"
    Then the response status is 401
    When I GET "/voices" with the token "acme-secret-1"
    Then the response status is 200
