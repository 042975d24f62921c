"""Prometheus metrics: the instruments (`instruments`), what the cache reports at scrape time
(`exposition`), and the multiprocess directory shared by gunicorn workers (`process_dir`).

`process_dir` must run before anything imports prometheus_client: the client picks its value storage
(in memory, or files shared across processes) once, when it is imported."""
