"""Produce test records with Confluent's own serializers (confluent-kafka),
so that the bytes our converters read come from the reference
implementation. Usage:

    sr_produce.py BOOTSTRAP REGISTRY_URL TOPIC FORMAT VERSION FIRST COUNT

FORMAT is avro, json (JSON Schema) or protobuf. For avro and json, VERSION 1 or 2 (v2 adds optional
fields: a schema evolution); protobuf has one version, `shop.Product` built
at run time (no protoc): the Avro fields plus a oneof, a repeated string, a
nested message and a map, its enum imported from `shop/common.proto` (which
the serializer registers as a reference). Record i has key str(i) and value id=i. Prints one JSON line
per record: what was sent, for the test to compare with.

With SR_SCHEMA_ID=header, the serializer puts the schema's GUID in the
`__value_schema_id` header (Confluent 8) instead of the id before the payload.
"""

import datetime
import decimal
import json
import os
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


def protobuf_product_class():
    """shop.Product, built as a FileDescriptorProto in the default pool."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf import timestamp_pb2  # noqa: F401 (adds the file to the pool)
    from google.type import date_pb2  # noqa: F401
    from confluent_kafka.schema_registry.confluent import meta_pb2
    from confluent_kafka.schema_registry.confluent.type import decimal_pb2  # noqa: F401

    pool = descriptor_pool.Default()
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Product"))
    except KeyError:
        pass
    F = descriptor_pb2.FieldDescriptorProto
    common = descriptor_pb2.FileDescriptorProto(name="shop/common.proto", package="shop", syntax="proto3")
    colour = common.enum_type.add(name="Colour")
    for number, symbol in enumerate(["RED", "GREEN", "BLUE"]):
        colour.value.add(name=symbol, number=number)
    pool.Add(common)

    product = descriptor_pb2.FileDescriptorProto(
        name="shop/product.proto",
        package="shop",
        syntax="proto3",
        dependency=[
            "google/protobuf/timestamp.proto",
            "google/type/date.proto",
            "confluent/type/decimal.proto",
            "confluent/meta.proto",
            "shop/common.proto",
        ],
    )
    msg = product.message_type.add(name="Product")

    def field(name, number, kind, type_name=None, label=F.LABEL_OPTIONAL, oneof=None):
        f = msg.field.add(name=name, number=number, type=kind, label=label)
        if type_name:
            f.type_name = type_name
        if oneof is not None:
            f.oneof_index = oneof
        return f

    msg.oneof_decl.add(name="detail")
    field("id", 1, F.TYPE_INT64)
    field("name", 2, F.TYPE_STRING)
    price = field("price", 3, F.TYPE_MESSAGE, ".confluent.type.Decimal")
    price.options.Extensions[meta_pb2.field_meta].params["precision"] = "9"
    price.options.Extensions[meta_pb2.field_meta].params["scale"] = "2"
    field("added", 4, F.TYPE_MESSAGE, ".google.type.Date")
    field("at", 5, F.TYPE_MESSAGE, ".google.protobuf.Timestamp")
    field("colour", 6, F.TYPE_ENUM, ".shop.Colour")
    field("note", 7, F.TYPE_STRING, oneof=0)
    field("rank", 8, F.TYPE_INT32, oneof=0)
    field("tags", 9, F.TYPE_STRING, label=F.LABEL_REPEATED)
    field("dims", 10, F.TYPE_MESSAGE, ".shop.Product.Dimensions")
    field("stock", 11, F.TYPE_MESSAGE, ".shop.Product.StockEntry", label=F.LABEL_REPEATED)
    dims = msg.nested_type.add(name="Dimensions")
    dims.field.add(name="width", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    dims.field.add(name="height", number=2, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    entry = msg.nested_type.add(name="StockEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    pool.Add(product)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Product"))


def protobuf_record(cls, i):
    from confluent_kafka.schema_registry.confluent.type.decimal_utils import to_proto_decimal

    value = record(i, 1)
    msg = cls(id=i, name=value["name"], colour=value["colour"], tags=[f"t{i}", "all"])
    msg.price.CopyFrom(to_proto_decimal(value["price"]))
    msg.added.year, msg.added.month, msg.added.day = value["added"].year, value["added"].month, value["added"].day
    msg.at.FromDatetime(value["at"])
    if i % 3 == 0:
        msg.note = f"note {i}"
    elif i % 3 == 1:
        msg.rank = i
    if i % 2 == 0:
        msg.dims.width = i + 0.5
        msg.dims.height = 2 * i + 1.0
    msg.stock["north"] = i
    msg.stock["south"] = 2 * i
    return msg


JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "shop.Product",
    "type": "object",
    "required": ["id", "name", "price", "added", "at", "colour"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "added": {"type": "integer", "title": "org.apache.kafka.connect.data.Date", "connect.type": "int32"},
        "at": {"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp", "connect.type": "int64"},
        "colour": {"type": "string", "enum": ["RED", "GREEN", "BLUE"]},
        "note": {"oneOf": [{"type": "null"}, {"type": "string"}]},
    },
    "additionalProperties": False,
}
JSON_SCHEMA_V2 = dict(JSON_SCHEMA, properties=dict(
    JSON_SCHEMA["properties"],
    description={"type": "string"},
    # A general oneOf: Connect's io.confluent.connect.json.OneOf struct.
    code={"oneOf": [{"type": "string"}, {"type": "integer"}]},
))
# v3: an allOf of v1's object (by $ref) and one more required property,
# which Connect reads as one struct.
JSON_SCHEMA_V3 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "shop.Product",
    "definitions": {"Base": {k: v for k, v in JSON_SCHEMA.items() if k in ("type", "required", "properties")}},
    "allOf": [
        {"$ref": "#/definitions/Base"},
        {"type": "object", "required": ["description"], "properties": {"description": {"type": "string"}}},
    ],
}


def json_record(i, version):
    """Record i as JSON: Date as days, Timestamp as epoch milliseconds."""
    value = {
        "id": i,
        "name": f"product {i}",
        "price": i + 0.5,
        "added": 19844 + i,
        "at": 1714571130123 + i * 1000,
        "colour": ["RED", "GREEN", "BLUE"][i % 3],
        "note": None if i % 2 else f"note {i}",
    }
    if version >= 2:
        value["description"] = f"described {i}"
    if version == 2:
        value["code"] = f"c{i}" if i % 2 == 0 else i
    return value


def main():
    bootstrap, registry, topic, fmt, version, first, count = sys.argv[1:8]
    version, first, count = int(version), int(first), int(count)
    assert fmt in ("avro", "json", "protobuf"), fmt
    conf = {"url": registry}
    # A secured registry: its CA and basic credentials, from the environment.
    if os.environ.get("SR_CA"):
        conf["ssl.ca.location"] = os.environ["SR_CA"]
    if os.environ.get("SR_USER_INFO"):
        conf["basic.auth.user.info"] = os.environ["SR_USER_INFO"]
    client = SchemaRegistryClient(conf)
    serde = {}
    if os.environ.get("SR_SCHEMA_ID") == "header":
        from confluent_kafka.schema_registry import header_schema_id_serializer

        serde["schema.id.serializer"] = header_schema_id_serializer
    if fmt == "protobuf":
        from confluent_kafka.schema_registry.protobuf import ProtobufSerializer

        cls = protobuf_product_class()
        serializer = ProtobufSerializer(cls, client, dict(serde, **{"use.deprecated.format": False}))
        record = lambda i, _version: protobuf_record(cls, i)  # noqa: E731
    elif fmt == "json":
        from confluent_kafka.schema_registry.json_schema import JSONSerializer

        schema = json.dumps({1: JSON_SCHEMA, 2: JSON_SCHEMA_V2, 3: JSON_SCHEMA_V3}[version])
        serializer = JSONSerializer(schema, client, conf=serde)
        record = json_record
    else:
        schema = json.dumps(AVRO_V2 if version == 2 else AVRO_V1)
        serializer = AvroSerializer(client, schema, conf=serde)
        record = globals()["record"]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(first, first + count):
        value = record(i, version)
        headers = []
        ctx = SerializationContext(topic, MessageField.VALUE, headers)
        payload = serializer(value, ctx)
        producer.produce(topic, key=str(i).encode(), value=payload, headers=headers)
        print(json.dumps({"id": i, "version": version}), flush=True)
    left = producer.flush(30)
    if left:
        sys.exit(f"{left} records not delivered")


if __name__ == "__main__":
    main()
