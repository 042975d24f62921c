Feature: Inbound SIP calls
  For phone calls to reach the SIP hooks, LiveKit needs an inbound trunk that accepts calls from the
  carrier's addresses and a dispatch rule that puts each caller in a room of its own. With SIP,
  SIP_ALLOWED_ADDRESSES and LiveKit credentials configured, the server makes sure both exist, by name:
  the trunk "sayna-{SIP_ROOM_PREFIX}-trunk" and the rule "sayna-{SIP_ROOM_PREFIX}-dispatch". It does so
  once per deployment, in the background, from the gunicorn master: the server starts even when LiveKit
  is down, reports "sip_provisioning" as failing in /ready, and retries with growing pauses until LiveKit
  answers.

  Background:
    Given LiveKit is connected
    And inbound calls come from "54.172.60.0/30, 203.0.113.7" into rooms starting with "call-"

  Scenario: The server makes LiveKit accept and dispatch inbound calls
    When the server has started
    Then LiveKit has one inbound trunk "sayna-call--trunk" accepting calls from "54.172.60.0/30, 203.0.113.7"
    And LiveKit has one dispatch rule "sayna-call--dispatch" putting each caller in a new room starting with "call-"
    And the server is ready, with "sip_provisioning" "ok"

  Scenario: Starting again creates nothing new
    Given the server has started once before
    When the server has started
    Then LiveKit has one inbound trunk "sayna-call--trunk" accepting calls from "54.172.60.0/30, 203.0.113.7"
    And LiveKit has one dispatch rule "sayna-call--dispatch" putting each caller in a new room starting with "call-"

  Scenario: Changed allowed addresses are applied to the existing trunk
    Given LiveKit has the inbound trunk "sayna-call--trunk" accepting calls from "198.51.100.1"
    When the server has started
    Then LiveKit has one inbound trunk "sayna-call--trunk" accepting calls from "54.172.60.0/30, 203.0.113.7"

  Scenario: The server starts while LiveKit is down, and becomes ready once LiveKit answers
    Given LiveKit answers ListSIPInboundTrunk with the error "unavailable": "the SIP service is down"
    When the server starts
    Then the server is alive but not ready, with "sip_provisioning" reporting "the SIP service is down"
    When LiveKit answers again
    Then the server becomes ready

  Scenario: Without allowed addresses there is no inbound trunk to make
    Given inbound calls come from no configured address
    When the server has started
    Then LiveKit has no inbound trunk
    And the server is ready, without a "sip_provisioning" check
