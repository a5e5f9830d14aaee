"""Produce test records with Confluent's own serializers (confluent-kafka),
so that the bytes our converters read come from the reference
implementation. Usage:

    sr_produce.py BOOTSTRAP REGISTRY_URL TOPIC FORMAT VERSION FIRST COUNT

FORMAT is avro; VERSION 1 or 2 (v2 adds optional fields: a schema
evolution). Record i has key str(i) and value id=i. Prints one JSON line
per record: what was sent, for the test to compare with.
"""

import datetime
import decimal
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

AVRO_V1 = {
    "type": "record",
    "name": "Product",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "added", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
AVRO_V2 = dict(AVRO_V1, fields=AVRO_V1["fields"] + [
    {"name": "description", "type": ["null", "string"], "default": None},
])


def record(i, version):
    value = {
        "id": i,
        "name": f"product {i}",
        "price": decimal.Decimal(f"{i}.{i % 100:02d}"),
        "added": datetime.date(2024, 5, 1) + datetime.timedelta(days=i),
        "at": datetime.datetime(2024, 5, 1, 13, 45, 30, 123000, tzinfo=datetime.timezone.utc)
        + datetime.timedelta(seconds=i),
        "colour": ["RED", "GREEN", "BLUE"][i % 3],
        "note": None if i % 2 else f"note {i}",
    }
    if version == 2:
        value["description"] = f"described {i}"
    return value


def main():
    bootstrap, registry, topic, fmt, version, first, count = sys.argv[1:8]
    version, first, count = int(version), int(first), int(count)
    assert fmt == "avro", fmt
    client = SchemaRegistryClient({"url": registry})
    schema = json.dumps(AVRO_V2 if version == 2 else AVRO_V1)
    serializer = AvroSerializer(client, schema)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(first, first + count):
        value = record(i, version)
        ctx = SerializationContext(topic, MessageField.VALUE)
        producer.produce(topic, key=str(i).encode(), value=serializer(value, ctx))
        print(json.dumps({"id": i, "version": version}), flush=True)
    left = producer.flush(30)
    if left:
        sys.exit(f"{left} records not delivered")


if __name__ == "__main__":
    main()
