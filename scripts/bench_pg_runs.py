#!/usr/bin/env python3
"""Many concurrent runs at a steady rate against `rlwatch serve`: ingest latency percentiles and server RSS.

Usage: bench_pg_runs.py PORT SERVER_PID [RUNS=100] [STEPS_PER_SECOND=10] [DURATION=30] [STEPS_PER_REQUEST=1]

Each run has its own keep-alive connection and posts STEPS_PER_REQUEST steps (64 rewards each) on a fixed schedule
so that the run sends STEPS_PER_SECOND steps a second. Latency is measured from the *scheduled* send time, so a
server that falls behind is charged for the wait (no coordinated omission). Stdlib only.
"""
import asyncio, json, random, sys, time

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 100
RATE = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
DURATION = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
PER_REQUEST = int(sys.argv[6]) if len(sys.argv) > 6 else 1
random.seed(0)
REWARDS = [round(random.random(), 4) for _ in range(64)]


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def request(reader, writer, method, path, body):
    data = json.dumps(body).encode()
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def run(index, latencies, errors, start):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    run_id = f"load-{index}"
    await request(reader, writer, "POST", "/api/v1/runs", {"run_id": run_id})
    interval = PER_REQUEST / RATE
    step = 0
    # Spread the runs over the first interval so they do not all fire together.
    scheduled = start + interval * index / RUNS
    while scheduled < start + DURATION:
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        batch = []
        for _ in range(PER_REQUEST):
            step += 1
            batch.append({"step": step, "entropy": 1.2, "kl": 0.01, "loss": 0.3, "grad_norm": 1.0,
                          "learning_rate": 1e-6, "rewards": REWARDS})
        status = await request(reader, writer, "POST", f"/api/v1/runs/{run_id}/steps", batch)
        latencies.append(time.monotonic() - scheduled)
        if status != 200:
            errors.append(status)
        scheduled += interval
    writer.close()


async def main():
    latencies, errors = [], []
    start = time.monotonic() + 0.5
    samples = []

    async def sample():
        while time.monotonic() < start + DURATION:
            samples.append(rss_mib()[0])
            await asyncio.sleep(1)

    await asyncio.gather(sample(), *(run(i, latencies, errors, start) for i in range(RUNS)))
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000
    rss, peak = rss_mib()
    print(f"runs: {RUNS}  rate: {RATE:g} steps/s each ({RUNS * RATE:g} steps/s total, {PER_REQUEST} per request)  "
          f"requests: {len(latencies)}  errors: {len(errors)}")
    print(f"latency ms: p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {latencies[-1] * 1000:.1f}")
    print(f"server RSS MiB: now {rss:.0f}  peak {peak:.0f}  first/last sample {samples[0]:.0f}/{samples[-1]:.0f}")


asyncio.run(main())
