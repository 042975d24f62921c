Feature: SIP hooks
  A SIP hook tells the server where to send inbound calls for one SIP host: when a call to that host
  joins LiveKit, the call is forwarded, signed, to the hook's URL. Hooks from SIP_HOOKS_JSON are
  read-only; hooks added through /sip/hooks are kept in the database and survive restarts. A hook's
  "auth_id" names the tenant whose rooms its calls land in: tenants only see and change their own.

  Rule: An open server manages every hook

    Background:
      Given SIP is configured with the read-only hook "config.example.com" for tenant "acme"

    Scenario: The configured hooks are listed
      When I list the SIP hooks
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
      And I list the SIP hooks
      Then the hook for "sip.support.example.com" sends to "https://hooks.example.com/support" for no tenant

    Scenario: A hook with the same host replaces the old one, whatever the case
      Given a hook sends the calls for "sip.support.example.com" to "https://hooks.example.com/old"
      When I add a hook for "SIP.SUPPORT.EXAMPLE.COM" sending to "https://hooks.example.com/new"
      Then the listed hooks are "config.example.com, sip.support.example.com"
      And the hook for "sip.support.example.com" sends to "https://hooks.example.com/new" for no tenant

    Scenario: An empty list changes nothing
      When I add no hooks
      Then the listed hooks are "config.example.com"

    Scenario: A configured hook cannot be changed
      When I add a hook for "Config.Example.com" sending to "https://evil.example.com/"
      Then the response status is 405
      And the error code is "config_hook_read_only"
      And the error message contains "config.example.com"

    Scenario: A configured hook cannot be deleted
      When I delete the hooks for "config.example.com"
      Then the response status is 405
      And the error code is "config_hook_read_only"

    Scenario: The same host twice in one request is refused
      When I add hooks for "a.example.com" and "A.example.com" at once
      Then the response status is 400
      And the error code is "duplicate_host"

    Scenario: A hook must send to an http(s) URL
      When I add a hook for "a.example.com" sending to "ftp://hooks.example.com/"
      Then the response status is 400
      And the error code is "invalid_hook_url"

    Scenario: A hook is deleted, and deleting an unknown host changes nothing
      Given a hook sends the calls for "sip.support.example.com" to "https://hooks.example.com/support"
      When I delete the hooks for "SIP.support.example.com", "never-added.example.com"
      Then the listed hooks are "config.example.com"

    Scenario: Deleting needs at least one host
      When I delete no hooks
      Then the response status is 400
      And the error code is "invalid_request"
      And the error message contains "No hosts provided"

    Scenario: The hook store fails
      Given the hook store is broken
      When I list the SIP hooks
      Then the response status is 500
      And the error code is "hook_storage_failed"

  Rule: Tenants only see and route their own hooks
    A host another tenant routes gets the same answer whether its hook is configured or was added at
    run time, so a tenant cannot learn how other tenants' hosts are set up.

    Background:
      Given SIP is configured with the read-only hook "config.example.com" for tenant "acme"
      And tenant "acme" has the API secret "acme-secret-1"
      And tenant "globex" has the API secret "globex-secret-2"
      And tenant "acme" has a hook sending the calls for "sip.acme.example" to "https://hooks.acme.example/sip"

    Scenario: A tenant lists only its own hooks
      When tenant "globex" lists the SIP hooks
      Then no hooks are listed
      When tenant "acme" lists the SIP hooks
      Then the listed hooks are "config.example.com, sip.acme.example"

    Scenario: A hook must name the tenant
      When tenant "globex" adds a hook for "sip.globex.example" sending to "https://hooks.globex.example/sip" for no tenant
      Then the response status is 400
      And the error code is "invalid_auth_id"

    Scenario: Tenant B cannot route calls into tenant A's rooms
      When tenant "globex" adds a hook for "sip.globex.example" sending to "https://hooks.globex.example/sip" for tenant "acme"
      Then the response status is 403
      And the error code is "hook_access_denied"

    Scenario: Tenant B cannot take over tenant A's host
      When tenant "globex" adds a hook for "sip.acme.example" sending to "https://hooks.globex.example/steal"
      Then the response status is 403
      And the error code is "hook_access_denied"
      And the error message contains "cannot be routed by your tenant"
      When tenant "acme" lists the SIP hooks
      Then the hook for "sip.acme.example" sends to "https://hooks.acme.example/sip" for tenant "acme"

    Scenario: Tenant B cannot delete tenant A's hook
      When tenant "globex" deletes the hooks for "sip.acme.example"
      Then the response status is 200
      When tenant "acme" lists the SIP hooks
      Then the listed hooks are "config.example.com, sip.acme.example"

    Scenario: Tenant B cannot tell a configured host from another tenant's host
      When tenant "globex" adds a hook for "config.example.com" sending to "https://hooks.globex.example/sip"
      And tenant "globex" adds a hook for "sip.acme.example" sending to "https://hooks.globex.example/sip"
      Then both answers are the same 403 "hook_access_denied" but for the host they name

    Scenario: Deleting a configured host of another tenant changes nothing, like an unknown host
      When tenant "globex" deletes the hooks for "config.example.com"
      Then the response status is 200
      And no hooks are listed

    Scenario: A tenant's own configured hook is read-only
      When tenant "acme" adds a hook for "config.example.com" sending to "https://hooks.acme.example/other"
      Then the response status is 405
      And the error code is "config_hook_read_only"

  Rule: Hooks added at run time only send to the public internet
    A hook URL whose host is, or resolves to, a loopback, private, link-local (cloud metadata), shared
    or reserved address is refused when written, and checked again when each call is forwarded, since
    DNS can change. Hooks from SIP_HOOKS_JSON are the operator's and are not checked.
    SIP_HOOKS_ALLOW_PRIVATE=true lifts the rule (for development and tests).

    Background:
      Given SIP hooks may only send to the public internet
      And tenant "acme" has the API secret "acme-secret-1"

    Scenario Outline: A hook aimed inside the network is refused
      When tenant "acme" adds a hook for "sip.acme.example" sending to "<url>"
      Then the response status is 400
      And the error code is "invalid_hook_url"
      And the error message contains "public internet address"

      Examples:
        | url                                          |
        | http://127.0.0.1:8080/events                 |
        | http://localhost/events                      |
        | http://10.1.2.3/events                       |
        | https://192.168.0.10/events                  |
        | http://169.254.169.254/latest/meta-data/     |
        | http://100.100.100.200/latest/meta-data/     |
        | http://[::1]:3001/events                     |
        | http://[fd00:ec2::254]/latest/meta-data/     |
        | http://[::ffff:127.0.0.1]/events             |
        | http://2130706433/events                     |
        | http://0.0.0.0:3001/events                   |
        | http://no-such-host.invalid/events           |

    Scenario: A hook on a public address is accepted
      When tenant "acme" adds a hook for "sip.acme.example" sending to "https://93.184.216.34/events"
      Then the response status is 200
      And the hook for "sip.acme.example" sends to "https://93.184.216.34/events" for tenant "acme"

    Scenario: A hook whose host has come to point inside the network is not called
      Given LiveKit is connected
      And SIP is configured with the hook secret "sip-hook-secret-shared-by-runtime-hooks"
      And the hook of tenant "acme" for "sip.acme.example" was written when its URL's host was public, and now resolves to the customer's receiver on 127.0.0.1
      When LiveKit reports that "+15551230000" called "+15559870000" at "sip.acme.example", joining room "sip-inbound-1"
      Then the response status is 200
      And the delivery is refused as not public and the customer receives nothing

    Scenario: Hooks need an API token
      When I list the SIP hooks
      Then the response status is 401
