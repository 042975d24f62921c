Feature: SIP hooks
  A SIP hook tells the server where to send inbound calls for one SIP host: when a call to that host
  joins LiveKit, the call is forwarded, signed, to the hook's URL. Hooks from SIP_HOOKS_JSON are
  read-only; hooks added through /sip/hooks are kept in the database and survive restarts. A hook's
  "auth_id" names the tenant whose rooms its calls land in: tenants only see and change their own.

  Rule: An open server manages every hook

    Background:
      Given SIP is configured with the read-only hook "config.example.com" for tenant "acme"

    Scenario: The configured hooks are listed
      When I GET "/sip/hooks"
      Then the listed hooks are "config.example.com"
      And the hook for "config.example.com" sends to "https://hooks.example.com/acme" for tenant "acme"

    Scenario: A hook is added and survives a restart
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "SIP.Support.example.com ", "url": "https://hooks.example.com/support", "auth_id": ""}]}
        """
      Then the response status is 200
      And the listed hooks are "config.example.com, sip.support.example.com"
      When the server restarts
      And I GET "/sip/hooks"
      Then the hook for "sip.support.example.com" sends to "https://hooks.example.com/support" for no tenant

    Scenario: A hook with the same host replaces the old one, whatever the case
      Given a hook sends the calls for "sip.support.example.com" to "https://hooks.example.com/old"
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "SIP.SUPPORT.EXAMPLE.COM", "url": "https://hooks.example.com/new", "auth_id": ""}]}
        """
      Then the listed hooks are "config.example.com, sip.support.example.com"
      And the hook for "sip.support.example.com" sends to "https://hooks.example.com/new" for no tenant

    Scenario: An empty list changes nothing
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": []}
        """
      Then the listed hooks are "config.example.com"

    Scenario: A configured hook cannot be changed
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "Config.Example.com", "url": "https://evil.example.com/", "auth_id": ""}]}
        """
      Then the response status is 405
      And the error code is "config_hook_read_only"
      And the error message contains "config.example.com"

    Scenario: A configured hook cannot be deleted
      When I DELETE "/sip/hooks" with the JSON body:
        """
        {"hosts": ["config.example.com"]}
        """
      Then the response status is 405
      And the error code is "config_hook_read_only"

    Scenario: The same host twice in one request is refused
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "a.example.com", "url": "https://hooks.example.com/1", "auth_id": ""},
                   {"host": "A.example.com", "url": "https://hooks.example.com/2", "auth_id": ""}]}
        """
      Then the response status is 400
      And the error code is "duplicate_host"

    Scenario: A hook must send to an http(s) URL
      When I POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "a.example.com", "url": "ftp://hooks.example.com/", "auth_id": ""}]}
        """
      Then the response status is 400
      And the error code is "invalid_hook_url"

    Scenario: A hook is deleted, and deleting an unknown host changes nothing
      Given a hook sends the calls for "sip.support.example.com" to "https://hooks.example.com/support"
      When I DELETE "/sip/hooks" with the JSON body:
        """
        {"hosts": ["SIP.support.example.com", "never-added.example.com"]}
        """
      Then the listed hooks are "config.example.com"

    Scenario: Deleting needs at least one host
      When I DELETE "/sip/hooks" with the JSON body:
        """
        {"hosts": []}
        """
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "No hosts provided"

    Scenario: The hook store fails
      Given the hook store is broken
      When I GET "/sip/hooks"
      Then the response status is 500
      And the error code is "hook_storage_failed"

  Rule: Tenants only see and route their own hooks

    Background:
      Given SIP is configured with the read-only hook "config.example.com" for tenant "acme"
      And tenant "acme" has the API secret "acme-secret-1"
      And tenant "globex" has the API secret "globex-secret-2"
      And tenant "acme" has a hook sending the calls for "sip.acme.example" to "https://hooks.acme.example/sip"

    Scenario: A tenant lists only its own hooks
      When tenant "globex" sends GET "/sip/hooks"
      Then no hooks are listed
      When tenant "acme" sends GET "/sip/hooks"
      Then the listed hooks are "config.example.com, sip.acme.example"

    Scenario: A hook must name the tenant
      When tenant "globex" sends POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "sip.globex.example", "url": "https://hooks.globex.example/sip", "auth_id": ""}]}
        """
      Then the response status is 400
      And the error code is "invalid_auth_id"

    Scenario: Tenant B cannot route calls into tenant A's rooms
      When tenant "globex" sends POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "sip.globex.example", "url": "https://hooks.globex.example/sip", "auth_id": "acme"}]}
        """
      Then the response status is 403
      And the error code is "hook_access_denied"

    Scenario: Tenant B cannot take over tenant A's host
      When tenant "globex" sends POST "/sip/hooks" with the JSON body:
        """
        {"hooks": [{"host": "sip.acme.example", "url": "https://hooks.globex.example/steal", "auth_id": "globex"}]}
        """
      Then the response status is 403
      And the error code is "hook_access_denied"
      When tenant "acme" sends GET "/sip/hooks"
      Then the hook for "sip.acme.example" sends to "https://hooks.acme.example/sip" for tenant "acme"

    Scenario: Tenant B cannot delete tenant A's hook
      When tenant "globex" sends DELETE "/sip/hooks" with the JSON body:
        """
        {"hosts": ["sip.acme.example"]}
        """
      Then the response status is 200
      When tenant "acme" sends GET "/sip/hooks"
      Then the listed hooks are "config.example.com, sip.acme.example"

    Scenario: Hooks need an API token
      When I GET "/sip/hooks"
      Then the response status is 401
