"""Side-by-side benchmark of connect-host's qdrant-embedding sink and the
Python pipeline it replaces (bench/python_pipeline.py), on this machine:

1. model only: `connect-host embed` against sentence-transformers, same
   model files, same distinct texts;
2. end to end (Kafka -> embedded -> acknowledged by Qdrant), steady-state
   events/s from the first stored point on: (a) all-distinct texts, (b) a
   realistic stream (a 5,000-product catalogue, Zipf popularity s = 1.1);
3. latency from an event's production to its point in Qdrant, p50/p95/p99,
   at a fixed offered load;
4. cost: peak RSS and where the time went.

Every run gets a fresh broker (tansu) and Qdrant test server. Prints a
table with ours/Python ratios and writes it to the results file. Sizes come
from the environment (see scripts/bench.sh); nothing here is asserted.
"""

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ["BENCH_BIN"]
TANSU = os.environ["TANSU_BIN"]
QDRANT = os.environ["QDRANT_TEST_SERVER_BIN"]
MODEL = os.environ["CONNECTHOST_MODEL_DIR"]
DEVICE = os.environ.get("BENCH_DEVICE", "cpu")
MODEL_TEXTS = int(os.environ.get("BENCH_TEXTS", "2000"))
DISTINCT = int(os.environ.get("BENCH_DISTINCT_EVENTS", "4000"))
STREAM = int(os.environ.get("BENCH_STREAM_EVENTS", "200000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "120"))
RATE = int(os.environ.get("BENCH_RATE", "1000"))
LATENCY_SECONDS = int(os.environ.get("BENCH_LATENCY_SECONDS", "30"))
PARTITIONS = int(os.environ.get("BENCH_PARTITIONS", "4"))
TASKS = int(os.environ.get("BENCH_TASKS", "2"))
RESULTS = os.environ["BENCH_RESULTS"]
# Both pipelines' consumers: with tansu, a consumer's latency follows
# fetch.wait.max.ms (measured, connect-host at 1,000 events/s: p50 307 ms
# at librdkafka's 500 ms default, 159 ms at 20 ms), where Kafka answers a
# fetch as soon as a record is there.
FETCH_WAIT_MS = int(os.environ.get("BENCH_FETCH_WAIT_MS", "50"))
# Latency is also given for events produced after this many seconds: the
# first seconds hold every product's first appearance, which waits for the
# model; after them, the steady state.
WARM_SECONDS = 10
# Latency is measured on every SAMPLE-th event of the fixed load, after
# WARM_UP events and SETTLE_SECONDS.
SAMPLE = 10
WARM_UP = 20
SETTLE_SECONDS = 10
# Experiments: BENCH_CONNECTOR_EXTRA='{"consumer.override.max.poll.records":"2000"}'
# adds settings to connect-host's connector (2026-11-24, realistic stream:
# 2,420 events/s with Connect's 500 records per put, 2,735 with 2000).
# Subsets, for a quick look: BENCH_PARTS=realistic BENCH_PIPELINES=connect-host
PARTS = os.environ.get("BENCH_PARTS", "model,distinct,realistic,latency").split(",")
PIPELINES = os.environ.get("BENCH_PIPELINES", "connect-host,Python").split(",")
PYTHON = sys.executable

from qdrant_client import QdrantClient  # noqa: E402  (the venv's, like the pipeline's)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Stack:
    """A fresh tansu broker and Qdrant test server."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="connect-host-bench-")
        self.kafka_port, self.qdrant_port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.kafka_port}"
        url = f"tcp://127.0.0.1:{self.kafka_port}"
        self.procs = [
            subprocess.Popen(
                [TANSU, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen(
                [QDRANT, "--port", str(self.qdrant_port), "--data-dir", os.path.join(self.dir, "qdrant")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        wait_port(self.kafka_port)
        wait_port(self.qdrant_port)
        self.qdrant = QdrantClient(host="127.0.0.1", grpc_port=self.qdrant_port, prefer_grpc=True,
                                   check_compatibility=False)

    def count(self, collection):
        try:
            return self.qdrant.count(collection, exact=True).count
        except Exception:
            return 0

    def produce(self, topic, count, *extra):
        out = subprocess.run(
            [os.path.join(BIN, "generate-events"), "--bootstrap-servers", self.bootstrap, "--topic", topic,
             "--create-topic", str(PARTITIONS), "--count", str(count), "--malformed-rate", "0", *extra],
            check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


class Ours:
    name = "connect-host"

    def start(self, stack, topic):
        port = free_port()
        self.log = os.path.join(stack.dir, "connect-host.log")
        env = dict(os.environ,
                   CONNECT_BOOTSTRAP_SERVERS=stack.bootstrap,
                   CONNECT_LISTENERS=f"http://127.0.0.1:{port}",
                   CONNECT_CONFIG_STORAGE_FILE_FILENAME=os.path.join(stack.dir, "configs.json"),
                   CONNECT_CONNECTORS_DIR=os.path.join(stack.dir, "none"),
                   CONNECT_CONSUMER_SESSION_TIMEOUT_MS="6000",
                   CONNECT_CONSUMER_FETCH_WAIT_MAX_MS=str(FETCH_WAIT_MS),
                   CONNECT_CONSUMER_PARTITION_ASSIGNMENT_STRATEGY="range",
                   RUST_LOG="info")
        self.proc = subprocess.Popen([os.path.join(BIN, "connect-host")], env=env,
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        config = {
            "connector.class": "qdrant-embedding", "topics": topic, "tasks.max": str(TASKS),
            "qdrant.url": f"http://127.0.0.1:{stack.qdrant_port}", "collection.name": topic,
            "embedding.device": DEVICE, "embedding.text.template": "{product.name}: {product.description}",
            "id.strategy": "field:event_id", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        }
        # Experiments: settings merged into the connector's config.
        config.update(json.loads(os.environ.get("BENCH_CONNECTOR_EXTRA", "{}")))
        body = json.dumps({"name": "bench", "config": config}).encode()
        req = urllib.request.Request(base + "/connectors", body, {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=60)

    def stop(self):
        rss = peak_rss_mib(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        text = open(self.log).read()
        spent = {}
        # Totals the worker logs when its tasks and its embedder stop.
        for key in ("poll_ms", "convert_ms", "put_ms", "commit_ms", "map_ms", "embed_ms", "upsert_ms",
                    "tokenize_ms", "forward_ms"):
            values = [int(v) for v in re.findall(rf"\b{key}=(\d+)", text)]
            if values:
                spent[key[:-3]] = sum(values) / 1000
        # What the embedder did: texts through the model, in how many
        # passes, and how often the text cache answered.
        counts = {}
        for key in ("texts", "passes", "cache_hits", "cache_misses"):
            values = [int(v) for v in re.findall(rf"embedder stopped.*?\b{key}=(\d+)", text)]
            if values:
                counts[key] = sum(values)
        return {"peak_rss_mib": rss, "spent": spent, "counts": counts}


class Python:
    name = "Python"

    def start(self, stack, topic):
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "python_pipeline.py"), "--bootstrap", stack.bootstrap, "--topic", topic,
             "--qdrant-port", str(stack.qdrant_port), "--collection", topic, "--model-dir", MODEL,
             "--device", DEVICE, "--fetch-wait-ms", str(FETCH_WAIT_MS), "--seconds", str(SECONDS + LATENCY_SECONDS + 60)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def stop(self):
        rss = peak_rss_mib(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=60)
            summary = json.loads(out.strip().splitlines()[-1])
        except Exception:
            self.proc.kill()
            summary = {}
        return {"peak_rss_mib": summary.get("peak_rss_mib", rss), "spent": summary.get("spent", {})}


def drain(pipeline, events, extra):
    """Events produced first, then the pipeline started: steady-state rate."""
    stack = Stack()
    try:
        topic = "bench-events"
        produced = stack.produce(topic, events, *extra)["valid"]
        pipeline.start(stack, topic)
        started = time.monotonic()
        first = None
        n = 0
        while time.monotonic() - started < SECONDS + 60:
            n = stack.count(topic)
            now = time.monotonic()
            if n and first is None:
                first = (now, n)
            if n >= produced or (first and now - first[0] >= SECONDS):
                break
            if first and n > first[1]:
                # The rate as it goes, on one line (stderr, like log()).
                print(f"\r  {pipeline.name}: {n}/{produced} points, "
                      f"{(n - first[1]) / max(1e-9, now - first[0]):,.0f} events/s   ",
                      end="", file=sys.stderr, flush=True)
            time.sleep(0.2)
        print(file=sys.stderr)
        last = (time.monotonic(), n)
        cost = pipeline.stop()
        rate = (last[1] - first[1]) / max(1e-9, last[0] - first[0]) if first and last[1] > first[1] else 0.0
        log(f"  {pipeline.name}: {last[1]}/{produced} points, {rate:,.0f} events/s")
        return {"rate": rate, "stored": last[1], "produced": produced, **cost}
    finally:
        stack.stop()


def latency(pipeline):
    """A fixed offered load into a running pipeline: production -> point."""
    stack = Stack()
    try:
        topic = "bench-latency"
        # Warm-up: events on every partition, all stored, then time for a
        # consumer group whose second member joined late to rebalance (a
        # rebalance inside the timed load stalls it for seconds, and made
        # runs differ several-fold).
        stack.produce(topic, WARM_UP)
        pipeline.start(stack, topic)
        end = time.monotonic() + 120
        while stack.count(topic) < WARM_UP and time.monotonic() < end:
            time.sleep(0.1)
        time.sleep(SETTLE_SECONDS)
        total = RATE * LATENCY_SECONDS
        # The same events, printed: their ids are their points' ids.
        ids = [json.loads(line)["event_id"] for line in subprocess.run(
            [os.path.join(BIN, "generate-events"), "--stdout", "--count", str(total), "--malformed-rate", "0",
             "--seed", "7"], check=True, capture_output=True, text=True).stdout.splitlines()]
        # Every SAMPLE-th event is looked for by id until its point is there:
        # its own latency, whatever order the points are written in.
        sampled = {k: ids[k] for k in range(0, total, SAMPLE)}
        stored_at = {}
        t0 = time.monotonic()
        producer = subprocess.Popen(
            [os.path.join(BIN, "generate-events"), "--bootstrap-servers", stack.bootstrap, "--topic", topic,
             "--count", str(total), "--rate", str(RATE), "--malformed-rate", "0", "--seed", "7"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        n = 0
        while time.monotonic() - t0 < LATENCY_SECONDS + 60:
            now = time.monotonic()
            due = [k for k in sampled if k not in stored_at and t0 + k / RATE <= now]
            for chunk in range(0, len(due), 500):
                wanted = {sampled[k]: k for k in due[chunk:chunk + 500]}
                try:
                    found = stack.qdrant.retrieve(topic, ids=list(wanted), with_payload=False,
                                                  with_vectors=False)
                except Exception:
                    found = []
                for point in found:
                    stored_at[wanted[str(point.id)]] = now
            n = stack.count(topic) - WARM_UP
            if n >= total and len(stored_at) == len(sampled):
                break
            time.sleep(0.05)
        producer.wait()
        cost = pipeline.stop()
        # Event k was produced at t0 + k/RATE.
        lat = sorted(at - (t0 + k / RATE) for k, at in stored_at.items())
        warm = sorted(at - (t0 + k / RATE) for k, at in stored_at.items() if k >= RATE * WARM_SECONDS)

        def pct(q, lat=lat):
            return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

        result = {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "stored": n,
                  "warm_p50_ms": pct(0.50, warm), "warm_p95_ms": pct(0.95, warm),
                  "warm_p99_ms": pct(0.99, warm), "offered": total, **cost}
        log(f"  {pipeline.name}: p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms ({n}/{total} stored; {len(stored_at)}/{len(sampled)} sampled events "
            f"timed)")
        return result
    finally:
        stack.stop()


def model_only(texts_file):
    n = sum(1 for _ in open(texts_file))
    start = time.monotonic()
    with open(texts_file) as f:
        subprocess.run([os.path.join(BIN, "connect-host"), "embed", "--device", DEVICE], stdin=f,
                       stdout=subprocess.DEVNULL, check=True)
    ours = n / (time.monotonic() - start)
    code = (
        "import json,sys,time\n"
        "from sentence_transformers import SentenceTransformer\n"
        "start=time.monotonic()\n"
        f"m=SentenceTransformer({MODEL!r}, device={DEVICE!r})\n"
        f"texts=[json.loads(l) for l in open({texts_file!r})]\n"
        "m.encode(texts, batch_size=64)\n"
        "print(len(texts)/(time.monotonic()-start))\n"
    )
    python = float(subprocess.run([PYTHON, "-c", code], check=True, capture_output=True, text=True).stdout)
    log(f"  model only: ours {ours:,.0f} texts/s, sentence-transformers {python:,.0f} texts/s")
    return {"ours": ours, "python": python}


def main():
    work = tempfile.mkdtemp(prefix="connect-host-bench-texts-")
    texts = os.path.join(work, "distinct.jsonl")
    with open(texts, "w") as f:
        subprocess.run([os.path.join(BIN, "generate-events"), "--texts", "--distinct", "--count", str(MODEL_TEXTS),
                        "--catalogue-size", str(MODEL_TEXTS * 2), "--seed", "3"], stdout=f, check=True)
    model = {"ours": 0.0, "python": 0.0}
    if "model" in PARTS:
        log(f"model only: {MODEL_TEXTS} distinct product texts, model load included")
        model = model_only(texts)
    pipelines = [p for p in (Ours(), Python()) if p.name in PIPELINES]
    empty = {"rate": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "peak_rss_mib": 0, "spent": {}}
    distinct = ["--distinct", "--catalogue-size", str(DISTINCT * 2)]
    realistic = ["--catalogue-size", "5000"]
    runs = {}
    for label, events, extra in (("distinct", DISTINCT, distinct), ("realistic", STREAM, realistic)):
        runs[label] = {p.name: dict(empty) for p in (Ours(), Python())}
        if label in PARTS:
            log(f"end to end, {label}: {events} events, {PARTITIONS} partitions, at most {SECONDS:.0f} s each")
            runs[label].update({p.name: drain(p, events, extra) for p in pipelines})
    runs["latency"] = {p.name: dict(empty) for p in (Ours(), Python())}
    if "latency" in PARTS:
        log(f"latency: {RATE} events/s for {LATENCY_SECONDS} s")
        runs["latency"].update({p.name: latency(p) for p in pipelines})
    write_results(model, runs)


def measured(v):
    """A figure that was measured: not zero (not run) and not NaN (nothing stored)."""
    return bool(v) and v == v


def ratio(a, b):
    return f"{a / b:.1f}x" if measured(a) and measured(b) else "n/a"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def write_results(model, runs):
    machine = f"{os.cpu_count()} CPU threads ({cpu_model()}), device {DEVICE}"
    ours, py = "connect-host", "Python"
    rows = [
        ("model only, distinct texts (texts/s)", model["ours"], model["python"], ratio(model["ours"], model["python"])),
    ]
    for label, title in (("distinct", "end to end, distinct texts (events/s)"),
                         ("realistic", "end to end, realistic stream (events/s)")):
        r = runs[label]
        rows.append((title, r[ours]["rate"], r[py]["rate"], ratio(r[ours]["rate"], r[py]["rate"])))
    lat = runs["latency"]
    for q in ("p50_ms", "p95_ms", "p99_ms", "warm_p50_ms", "warm_p95_ms", "warm_p99_ms"):
        when = f", produced after {WARM_SECONDS} s" if q.startswith("warm") else ""
        rows.append((f"latency {q[-6:-3]} at {RATE} events/s{when} (ms)", lat[ours].get(q, 0), lat[py].get(q, 0),
                     ratio(lat[py][q], lat[ours][q]) + " lower" if measured(lat[ours].get(q)) and measured(lat[py].get(q))
                     else "n/a"))
    rss = [max((runs[k][name].get("peak_rss_mib") or 0 for k in runs), default=0) for name in (ours, py)]
    rows.append(("peak RSS (MiB)", rss[0], rss[1], ratio(rss[1], rss[0]) + " less" if rss[0] else "n/a"))
    lines = [
        f"# Benchmark results",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}; Qdrant: the test server "
        f"({os.path.basename(os.path.dirname(QDRANT))} build).",
        f"Model-only {MODEL_TEXTS} texts; end to end {DISTINCT} distinct / {STREAM} realistic events "
        f"(at most {SECONDS:.0f} s each), {PARTITIONS} partitions, {TASKS} tasks; latency {RATE} events/s for "
        f"{LATENCY_SECONDS} s.",
        "",
        "| measure | connect-host | Python pipeline | ours/Python |",
        "| --- | ---: | ---: | ---: |",
    ]
    for title, a, b, r in rows:
        # NaN: no event of that part was stored in time.
        cells = [f"{v:,.0f}" if v == v else "none stored" for v in (a, b)]
        lines.append(f"| {title} | {cells[0]} | {cells[1]} | {r} |")
    for part in ("realistic", "latency"):
        title = {"realistic": "realistic stream", "latency": f"latency run, {RATE} events/s"}[part]
        lines += ["", f"Where the time went, {title} (seconds, summed over tasks and threads):", ""]
        for name in (ours, py):
            spent = runs[part][name].get("spent", {})
            lines.append(f"- {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in spent.items()))
            counts = runs[part][name].get("counts")
            if counts:
                lines.append("  (embedder: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())
                             + ")")
    text = "\n".join(lines) + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    print(text)
    log(f"results written to {RESULTS}")


if __name__ == "__main__":
    main()
