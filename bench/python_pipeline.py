"""The Python job connect-host replaces, as a data team writes it: a
confluent-kafka consumer, sentence-transformers, qdrant-client batched
upserts with wait=True, and a commit after each upsert.

It reads the same topic, embeds the same text ("{product.name}:
{product.description}"), and writes the same point ids (the event id) into a
collection of the same Qdrant server as the connector does. It prints one
JSON line: what it did and where its time went.
"""

import argparse
import json
import resource
import signal
import time
import uuid

from confluent_kafka import Consumer
from qdrant_client import QdrantClient, models
from sentence_transformers import SentenceTransformer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", default="python-pipeline")
    p.add_argument("--qdrant-port", type=int, required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=500, help="records per poll")
    p.add_argument("--encode-batch", type=int, default=64)
    p.add_argument("--fetch-wait-ms", type=int, default=500, help="the consumer's fetch.wait.max.ms")
    p.add_argument("--seconds", type=float, default=120, help="stop after this long")
    p.add_argument("--expect", type=int, default=0, help="stop once this many points are written")
    args = p.parse_args()

    started = time.monotonic()
    model = SentenceTransformer(args.model_dir, device=args.device)
    if args.device.startswith("cuda"):
        model = model.half()
    dimension = model.get_sentence_embedding_dimension()
    client = QdrantClient(
        host="127.0.0.1",
        grpc_port=args.qdrant_port,
        prefer_grpc=True,
        check_compatibility=False,
    )
    if not client.collection_exists(args.collection):
        client.create_collection(
            args.collection,
            vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
        )
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "fetch.wait.max.ms": args.fetch_wait_ms,
            "partition.assignment.strategy": "range",
        }
    )
    consumer.subscribe([args.topic])
    loaded = time.monotonic()
    # The benchmark stops the pipeline with SIGINT: finish the batch, report.
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))

    spent = {"poll": 0.0, "decode": 0.0, "embed": 0.0, "upsert": 0.0, "commit": 0.0}
    written = skipped = 0
    first_write = last_write = None
    while not stop and time.monotonic() - loaded < args.seconds and (args.expect == 0 or written < args.expect):
        t = time.monotonic()
        messages = consumer.consume(num_messages=args.batch, timeout=0.5)
        spent["poll"] += time.monotonic() - t
        if not messages:
            continue
        t = time.monotonic()
        points, texts = [], []
        for m in messages:
            if m.error() or m.value() is None:
                skipped += 1
                continue
            try:
                event = json.loads(m.value())
                product = event["product"]
                text = f"{product['name']}: {product['description']}"
                point_id = str(uuid.UUID(event["event_id"]))
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            texts.append(text)
            points.append((point_id, event))
        spent["decode"] += time.monotonic() - t
        if points:
            t = time.monotonic()
            vectors = model.encode(texts, batch_size=args.encode_batch)
            spent["embed"] += time.monotonic() - t
            t = time.monotonic()
            client.upsert(
                args.collection,
                points=[
                    models.PointStruct(id=pid, vector=v.tolist(), payload=event)
                    for (pid, event), v in zip(points, vectors)
                ],
                wait=True,
            )
            spent["upsert"] += time.monotonic() - t
            written += len(points)
            last_write = time.monotonic()
            first_write = first_write or last_write
        t = time.monotonic()
        consumer.commit(asynchronous=False)
        spent["commit"] += time.monotonic() - t
    consumer.close()
    print(
        json.dumps(
            {
                "written": written,
                "skipped": skipped,
                "load_seconds": loaded - started,
                "run_seconds": time.monotonic() - loaded,
                "first_write": first_write,
                "last_write": last_write,
                "spent": spent,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
