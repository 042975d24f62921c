"""The text a scrape returns: every process's instruments, and the cache's size read from its index."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.services.metrics.instruments import REGISTRY


class _CacheSize(Collector):
    def __init__(self, totals: Callable[[], tuple[int, int]]):
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        entries, size = self.totals()
        yield GaugeMetricFamily("sayna_cache_entries", "Entries in the synthesis cache index", value=entries)
        yield GaugeMetricFamily("sayna_cache_bytes", "Bytes of audio in the synthesis cache", value=size)


class _Registry(Collector):
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def render(cache_totals: Callable[[], tuple[int, int]]) -> bytes:
    """Prometheus text format. Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) the figures of every worker,
    live or dead, are summed from their files; otherwise this process's own."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Registry(REGISTRY))
    registry.register(_CacheSize(cache_totals))
    return generate_latest(registry)
