"""Prometheus metrics: the instruments (`instruments`), what the cache reports at scrape time
(`exposition`), and gunicorn's hooks for the workers' files (`process_dir`).

prometheus_client picks its value storage (in memory, or files shared across processes) once, when it is
first imported: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before it imports this package."""
