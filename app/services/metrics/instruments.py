"""Every instrument the server records. Labels carry only bounded, non-secret values: route templates,
provider slugs, outcome codes. Never a tenant id, a text, a voice chosen by a caller, or a credential."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Our own registry: the default one also holds the client's process/platform collectors, which the
# multiprocess exposition cannot aggregate.
REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUESTS = Counter(
    "sayna_http_requests",
    "HTTP requests answered, by route template and status",
    ("method", "route", "status"),
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "sayna_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ("method", "route"),
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)

CACHE_LOOKUPS = Counter(
    "sayna_cache_lookups",
    "Synthesis cache lookups (hit: served from the cache; miss: synthesized)",
    ("result",),
    registry=REGISTRY,
)
SINGLE_FLIGHT_WAITS = Counter(
    "sayna_cache_single_flight_waits",
    "Misses that waited while another request synthesized the same key",
    registry=REGISTRY,
)
SINGLE_FLIGHT_WAIT_SECONDS = Histogram(
    "sayna_cache_single_flight_wait_seconds",
    "Time a miss waited for another request synthesizing its key",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)

PROVIDER_REQUESTS = Counter(
    "sayna_provider_requests",
    "Synthesis requests sent to a TTS provider, by outcome (ok or an error code)",
    ("provider", "outcome"),
    registry=REGISTRY,
)
PROVIDER_DURATION = Histogram(
    "sayna_provider_request_duration_seconds",
    "Time a TTS provider took to synthesize, retries included",
    ("provider",),
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)

LIVEKIT_CALLS = Counter(
    "sayna_livekit_calls", "LiveKit server API calls, by Twirp method", ("method",), registry=REGISTRY
)
LIVEKIT_CALL_ERRORS = Counter(
    "sayna_livekit_call_errors",
    "LiveKit server API calls that failed, by Twirp method and reason "
    "(unreachable, timeout, or LiveKit's Twirp error code)",
    ("method", "reason"),
    registry=REGISTRY,
)

# Each worker sets its own 1; "livesum" adds the files of live processes only, so a dead worker stops
# counting once gunicorn's child_exit marks it dead (process_dir.mark_worker_dead).
WORKERS = Gauge("sayna_workers", "Worker processes serving requests", multiprocess_mode="livesum", registry=REGISTRY)
