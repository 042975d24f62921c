"""Recording download: the app streaming a recording from S3, against boto3 downloading it directly.

What it compares, side by side in one run, against the same local S3 server (moto in its own process)
holding one object of --size-mb MiB (256 by default):
  - boto3 `get_object` read in 1 MiB chunks and thrown away (the baseline: what the app itself calls),
    and, for information, boto3's transfer manager (`download_fileobj`, parallel ranged GETs);
  - `GET /recording/<id>` from the app under gunicorn (one worker, as configured in gunicorn.conf.py),
    read by curl into /dev/null.
Goals: the worker's peak RSS growth during the first large download < 16 MB, and the app's throughput
divided by boto3's streamed throughput >= 0.8. Rounds alternate app and baseline; medians are compared.

Run by hand (not in CI):  /work/venv/bin/python bench/recording.py [--size-mb 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
BUCKET = "bench-recordings"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret", "region_name": "us-east-1"}
MOTO_SCRIPT = (
    "import sys, time\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stderr = open('/dev/null', 'w')\n"
    "time.sleep(10 ** 9)\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [PYTHON, "-c", MOTO_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        **CREDENTIALS,
        config=Config(
            s3={"addressing_style": "path"},
            response_checksum_validation="when_required",
            request_checksum_calculation="when_required",
        ),
    )


def upload(client, key: str, size: int) -> None:
    from boto3.s3.transfer import TransferConfig

    block = os.urandom(1 << 20)
    with tempfile.TemporaryFile() as source:
        for _ in range(size >> 20):
            source.write(block)
        source.seek(0)
        client.upload_fileobj(
            source,
            BUCKET,
            key,
            ExtraArgs={"ContentType": "audio/ogg"},
            Config=TransferConfig(multipart_chunksize=64 << 20),
        )


def start_app(endpoint: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "RECORDING_BACKEND": "s3",
        "RECORDING_S3_ENDPOINT": endpoint,
        "RECORDING_S3_BUCKET": BUCKET,
        "RECORDING_S3_REGION": CREDENTIALS["region_name"],
        "RECORDING_S3_ACCESS_KEY": CREDENTIALS["aws_access_key_id"],
        "RECORDING_S3_SECRET_KEY": CREDENTIALS["aws_secret_access_key"],
        "RECORDING_S3_FORCE_PATH_STYLE": "true",
    }
    process = subprocess.Popen(
        [GUNICORN, "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRss:
    """Peak resident memory of a process over a block: the kernel's own high-water mark (VmHWM, reset
    through clear_refs), cross-checked by sampling VmRSS every 5 ms."""

    def __init__(self, pid: int):
        self.pid = pid
        self.sampled_peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.before = memory_kb(self.pid, "VmRSS")
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.sampled_peak = max(self.sampled_peak, memory_kb(self.pid, "VmRSS"))
            time.sleep(0.005)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(memory_kb(self.pid, "VmHWM"), self.sampled_peak)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1024


def curl_download(url: str, expected: int) -> float:
    """Seconds curl itself reports for fetching `url` into /dev/null (connect to last byte, without the
    cost of starting the curl process); checks the status and size."""
    result = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    status, size, seconds = result.stdout.split()
    if status != "200" or int(size) != expected:
        raise RuntimeError(f"app download failed: HTTP {status}, {size} bytes")
    return float(seconds)


def boto3_stream(client, key: str, expected: int) -> float:
    started = time.perf_counter()
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
    received = sum(len(chunk) for chunk in body.iter_chunks(1 << 20))
    elapsed = time.perf_counter() - started
    if received != expected:
        raise RuntimeError(f"boto3 download got {received} bytes")
    return elapsed


class _Sink(io.RawIOBase):
    """A seekable /dev/null: the transfer manager writes its ranges at their offsets (a non-seekable
    sink makes it buffer ranges in order, and it stalls)."""

    def __init__(self):
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = offset
        return offset

    def tell(self) -> int:
        return self._position

    def write(self, data) -> int:
        self._position += len(data)
        return len(data)


def boto3_transfer_manager(client, key: str) -> float:
    started = time.perf_counter()
    client.download_fileobj(BUCKET, key, _Sink())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    size = args.size_mb << 20
    mib = size / (1 << 20)

    moto, endpoint = start_moto()
    data_dir = tempfile.mkdtemp(prefix="bench-recording-")
    app = None
    try:
        client = s3_client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        upload(client, "bench-big/audio.ogg", size)
        upload(client, "bench-small/audio.ogg", 1 << 20)
        app, url = start_app(endpoint, data_dir)
        worker = worker_pid(app.pid)
        curl_download(f"{url}/recording/bench-small", 1 << 20)  # warm-up: boto3 client built, modules loaded

        with PeakRss(worker) as first:
            app_times = [curl_download(f"{url}/recording/bench-big", size)]
        growths = [first.growth_mb]
        boto3_times, manager_times = [boto3_stream(client, "bench-big/audio.ogg", size)], []
        for _ in range(args.rounds - 1):
            with PeakRss(worker) as again:
                app_times.append(curl_download(f"{url}/recording/bench-big", size))
            growths.append(again.growth_mb)
            boto3_times.append(boto3_stream(client, "bench-big/audio.ogg", size))
        for _ in range(args.rounds):
            manager_times.append(boto3_transfer_manager(client, "bench-big/audio.ogg"))

        app_rate = mib / statistics.median(app_times)
        boto3_rate = mib / statistics.median(boto3_times)
        manager_rate = mib / statistics.median(manager_times)
        ratio = app_rate / boto3_rate
        print(
            f"recording download bench: {args.size_mb} MiB object on a local moto S3 server, {args.rounds} rounds, "
            f"gunicorn with 1 worker, {os.cpu_count()} CPUs"
        )
        print(f"  worker RSS before the first large download: {first.before / 1024:.1f} MB")
        print(
            f"  worker peak RSS growth, first large download: {growths[0]:.1f} MB "
            f"(later rounds: {', '.join(f'{g:.1f}' for g in growths[1:]) or '-'} MB)   goal < 16 MB   "
            f"{'OK' if max(growths) < 16 else 'MISSED'}"
        )
        print(
            f"  app GET /recording (curl):          {app_rate:7.1f} MiB/s  (rounds: "
            f"{', '.join(f'{mib / t:.0f}' for t in app_times)})"
        )
        print(
            f"  boto3 get_object streamed (direct): {boto3_rate:7.1f} MiB/s  (rounds: "
            f"{', '.join(f'{mib / t:.0f}' for t in boto3_times)})"
        )
        print(f"  boto3 transfer manager (direct):    {manager_rate:7.1f} MiB/s  (for information)")
        print(
            f"  throughput ratio app / boto3 streamed: {ratio:.2f}   goal >= 0.8   {'OK' if ratio >= 0.8 else 'MISSED'}"
        )
        print(f"  throughput ratio app / boto3 transfer manager: {app_rate / manager_rate:.2f}   (for information)")
    finally:
        if app is not None:
            os.killpg(app.pid, signal.SIGTERM)
            app.wait(timeout=30)
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
