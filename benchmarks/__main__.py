"""Throughput of the embedded log and of the file -> file pipeline.

python -m benchmarks log        # append/read records/s, 1 KB records, in-process
python -m benchmarks pipeline   # FileStreamSource -> log -> FileStreamSink through a real worker
python -m benchmarks all        # both; add --json for machine-readable output
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from app.storage.base import ProducerRecord
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import EmbeddedLog
from benchmarks import print_results
from connectors.sdk.records import TopicPartition


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bench_log(records: int, batch: int, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        await db.open()
        log = EmbeddedLog(db)
        await log.open()
        await log.create_topic("bench", 1)
        value = os.urandom(size)
        payload = [ProducerRecord("bench", value) for _ in range(batch)]
        cpu0, t0 = _cpu(), time.perf_counter()
        for _ in range(records // batch):
            await log.send_batch(payload)
        append_s, append_cpu = time.perf_counter() - t0, _cpu() - cpu0
        tp = TopicPartition("bench", 0)
        cpu0, t0, offset = _cpu(), time.perf_counter(), 0
        while offset < records:
            got = await log.read(tp, offset, batch)
            offset = got[-1].offset + 1
        read_s, read_cpu = time.perf_counter() - t0, _cpu() - cpu0
        db_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6
        await db.close()
    return {
        "records": records,
        "record_bytes": size,
        "batch": batch,
        "append_records_per_s": round(records / append_s),
        "append_mb_per_s": round(records * size / append_s / 1e6, 1),
        "append_cpu_s_per_wall_s": round(append_cpu / append_s, 2),
        "read_records_per_s": round(records / read_s),
        "read_mb_per_s": round(records * size / read_s / 1e6, 1),
        "read_cpu_s_per_wall_s": round(read_cpu / read_s, 2),
        "database_mb": round(db_mb),
    }


def bench_pipeline(lines: int, size: int, kafka: str | None = None) -> dict[str, Any]:
    """File -> topic -> file through one worker: embedded, or distributed on the Kafka at ``kafka``."""
    import psutil

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.server import ServerProcess

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, sink = root / "in.txt", root / "out.txt"
        line = ("x" * (size - 1)) + "\n"
        with source.open("w") as f:
            for _ in range(lines // 10_000):
                f.write(line * 10_000)
        settings, mode, topic = {"offset.flush.interval.ms": "10000"}, "run", "bench"
        if kafka:
            cluster = f"bench-{uuid.uuid4().hex[:8]}"
            mode, topic = "distributed", f"{cluster}-data"
            settings |= {
                "bootstrap.servers": kafka,
                "group.id": cluster,
                "config.storage.topic": f"{cluster}-configs",
                "offset.storage.topic": f"{cluster}-offsets",
                "status.storage.topic": f"{cluster}-status",
            }
        server = ServerProcess(root / "data", settings, mode=mode).start(60)
        try:
            proc = psutil.Process(server.process.pid)  # type: ignore[union-attr]
            t0 = time.perf_counter()
            server.create(
                "bench-source", {"connector.class": "FileStreamSource", "file": str(source), "topic": topic}
            )
            server.create(
                "bench-sink", {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic}
            )
            peak_rss = 0
            expected = lines * size
            while not sink.exists() or sink.stat().st_size < expected:
                peak_rss = max(peak_rss, proc.memory_info().rss)
                time.sleep(0.05)
                if time.perf_counter() - t0 > 600:
                    raise TimeoutError("pipeline did not finish in 10 minutes")
            elapsed = time.perf_counter() - t0
            cpu = proc.cpu_times()
        finally:
            server.close()
    return {
        "records": lines,
        "record_bytes": size,
        "seconds": round(elapsed, 2),
        "records_per_s": round(lines / elapsed),
        "mb_per_s": round(lines * size / elapsed / 1e6, 1),
        "worker_cpu_s": round(cpu.user + cpu.system, 1),
        "worker_peak_rss_mb": round(peak_rss / 1e6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=["log", "pipeline", "kafka", "all"], nargs="?", default="all")
    parser.add_argument("--records", type=int, default=500_000, help="records for the log benchmark")
    parser.add_argument("--batch", type=int, default=2000, help="records per append/read call")
    parser.add_argument("--lines", type=int, default=500_000, help="lines for the pipeline benchmark")
    parser.add_argument("--bytes", type=int, default=1024, help="record size (log) and line size (pipeline)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.which in ("log", "all"):
        results["embedded_log"] = asyncio.run(bench_log(args.records, args.batch, args.bytes))
    if args.which in ("pipeline", "all"):
        results["file_pipeline"] = bench_pipeline(args.lines, args.bytes)
    if args.which == "kafka":  # needs KAFKA_BOOTSTRAP_SERVERS (eval "$(scripts/services up kafka)")
        results["file_pipeline_on_kafka"] = bench_pipeline(
            args.lines, args.bytes, os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        )
    print_results(results, as_json=args.json)


if __name__ == "__main__":
    main()
