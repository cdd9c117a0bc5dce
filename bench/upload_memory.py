"""Upload files of codes through the page of a real server and measure the server's peak memory.

    .venv/bin/python bench/upload_memory.py 100000 1000000

For each size: a fresh server process (the standalone app on SQLite, werkzeug's server on a
free loopback port), a sign-in, a warm-up upload of 1,000 codes, then the big file sent as a
browser sends it (multipart, with Content-Length, streamed from disk). Before the big upload
the server's peak resident memory is reset (Linux: "5" into /proc/self/clear_refs, so that
the password hashing of the sign-in, which takes tens of MiB, does not hide the upload's
cost); after it the server reports its peak (VmHWM). The growth over the resident memory
before the upload is what the upload cost. It must not grow with the file.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password"
CHUNK = 1 << 16


@dataclass
class Measure:
    codes: int
    file_bytes: int
    seconds: float
    baseline_kib: int
    peak_kib: int
    inserted: int
    invalid: int = 0

    @property
    def growth_kib(self) -> int:
        return self.peak_kib - self.baseline_kib


def serve(database: str) -> None:
    """Run in the server process: serve the app until a line arrives on stdin."""
    sys.path.insert(0, str(ROOT))
    from werkzeug.serving import make_server

    from promo_app import create_app
    from promo_app.models import LoyaltyProgram

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    runner = app.test_cli_runner()
    runner.invoke(args=["promo", "create-admin", "bench", "--password", PASSWORD])
    with app.app_context():
        session = app.extensions["promo"].db.session
        session.add(LoyaltyProgram(name="Bench"))
        session.commit()
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "reset":
            reset_peak()
            print(memory_kib("VmRSS"), flush=True)
        else:
            print(memory_kib("VmHWM"), flush=True)
        if command == "stop":
            break
    server.shutdown()


def reset_peak() -> None:
    """Start measuring the peak resident memory afresh (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
    except OSError:
        pass  # no reset: the peak then includes what came before


def memory_kib(field: str) -> int:
    """Return a memory figure of this process in KiB: VmRSS now, or VmHWM, the peak."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class MultipartFile:
    """A multipart/form-data body around a file on disk, read in chunks, with its length."""

    def __init__(self, fields: dict[str, str], path: Path, boundary: str) -> None:
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: text/plain\r\n\r\n'
        )
        self.parts = [head.encode(), path, f"\r\n--{boundary}--\r\n".encode()]
        self.length = len(self.parts[0]) + path.stat().st_size + len(self.parts[2])

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        yield self.parts[0]
        with open(self.parts[1], "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
        yield self.parts[2]


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def upload(client: requests.Session, base: str, path: Path) -> str:
    form = client.get(f"{base}/admin/programs/1/upload")
    body = MultipartFile({"csrf_token": token(form.text)}, path, "BenchBoundary7MA4YWxkTrZu0gW")
    response = client.post(
        f"{base}/admin/programs/1/upload",
        data=body,  # iterable with a length: sent with Content-Length, as a browser does
        headers={"Content-Type": "multipart/form-data; boundary=BenchBoundary7MA4YWxkTrZu0gW"},
        timeout=600,
    )
    response.raise_for_status()
    return finished(client, response.url)


def finished(client: requests.Session, job_url: str, timeout: float = 600) -> str:
    """Wait for the upload job whose page is `job_url` to end, as its page's script does by
    polling its state; return its page, with the report."""
    deadline = time.monotonic() + timeout
    while not client.get(f"{job_url}.json", timeout=60).json()["finished"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the upload job {job_url} did not end in {timeout} s")
        time.sleep(0.1)
    return client.get(job_url, timeout=60).text


def measure(codes: int, workdir: Path, long_line: int = 0) -> Measure:
    """Upload `codes` codes; with `long_line`, a line of that many bytes in their middle."""
    file = workdir / f"codes-{codes}-{long_line}.txt"
    with open(file, "w") as out:
        for n in range(codes):
            out.write(f"BENCH-{n:012d}\n")
            if long_line and n == codes // 2:
                for start in range(0, long_line, CHUNK):
                    out.write("L" * min(CHUNK, long_line - start))
                out.write("\n")
    warmup = workdir / "warmup.txt"
    warmup.write_text("".join(f"WARM-{n:06d}\n" for n in range(1000)))
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(workdir / f"bench-{codes}.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    client = requests.Session()
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        login = client.get(f"{base}/admin/login")
        client.post(
            f"{base}/admin/login",
            data={"csrf_token": token(login.text), "name": "bench", "password": PASSWORD},
        ).raise_for_status()
        upload(client, base, warmup)
        server.stdin.write("reset\n")
        server.stdin.flush()
        baseline = int(server.stdout.readline())
        started = time.perf_counter()
        report = upload(client, base, file)
        seconds = time.perf_counter() - started
        server.stdin.write("stop\n")
        server.stdin.flush()
        peak = int(server.stdout.readline())
        inserted, invalid = (
            int(re.search(rf'data-count="{name}">([\d,]+)<', report).group(1).replace(",", ""))
            for name in ("inserted", "invalid")
        )
    finally:
        client.close()
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()
    return Measure(codes, file.stat().st_size, seconds, baseline, peak, inserted, invalid)


def run(sizes: list[int], long_line: int = 0) -> list[Measure]:
    with tempfile.TemporaryDirectory() as directory:
        return [measure(size, Path(directory), long_line) for size in sizes]


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000]
    results = run(sizes)
    print(
        f"{'codes':>10} {'file MiB':>9} {'seconds':>8} {'codes/s':>9} "
        f"{'before MiB':>10} {'peak MiB':>9} {'growth MiB':>11}"
    )
    for m in results:
        print(
            f"{m.codes:>10,} {m.file_bytes / 2**20:>9.1f} {m.seconds:>8.1f} "
            f"{m.codes / m.seconds:>9,.0f} {m.baseline_kib / 1024:>10.1f} "
            f"{m.peak_kib / 1024:>9.1f} {m.growth_kib / 1024:>11.1f}"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"{last.codes / first.codes:.0f}x the codes: "
            f"peak {last.peak_kib / first.peak_kib:.2f}x, "
            f"growth {(last.growth_kib - first.growth_kib) / 1024:+.1f} MiB"
        )


if __name__ == "__main__":
    main()
