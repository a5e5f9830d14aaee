//! The schemaless behaviour cases and config-validation cases of Apache
//! Kafka's own SMT and predicate unit tests
//! (`connect/transforms/src/test/java/org/apache/kafka/connect/transforms/`),
//! rewritten for this host: one test per Java test method, named after it.
//! Cases that need Connect schemas (`Struct`, `Schema`) are not here (those
//! that were rewritten are beside their SMT: `shape.rs`, `typed.rs`,
//! `headers.rs`, `timestamp_converter.rs`), nor
//! the `version()` tests (no counterpart on this host). Java's schemaless
//! values that JSON cannot hold (`byte[]`, `java.util.Date`, `BigInteger`,
//! `BigDecimal`) are left out of the cases that use them, and Java's
//! `byte`/`short`/`int`/`long` and `float`/`double` are JSON integers and
//! floats.

use bytes::Bytes;
use connect_api::{ConfigIssue, ConfigMap, Data, SinkRecord};
use serde_json::{Value, json};

use super::TransformChain;
use super::test_support::{apply, chain, record, try_chain};

/// The issues of a one-transformation chain that must be refused.
fn refused(class: &str, settings: &[(&str, &str)]) -> Vec<ConfigIssue> {
    match try_chain(class, settings) {
        Ok(_) => panic!("{class} {settings:?} was accepted"),
        Err(issues) => issues,
    }
}

/// `record` with `key` as its key and `value` as its value.
fn keyed(key: Data, value: Data) -> SinkRecord {
    let mut r = record(Value::Null);
    r.key = key;
    r.value = value;
    r
}

fn headers(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<Bytes>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(|v| Bytes::from(v.to_string()))))
        .collect()
}

/// Everything but the headers is as it was (Java's `assertNonHeaders`).
fn assert_non_headers(original: &SinkRecord, transformed: &SinkRecord) {
    assert_eq!(original.topic, transformed.topic);
    assert_eq!(original.partition, transformed.partition);
    assert_eq!(original.offset, transformed.offset);
    assert_eq!(original.timestamp, transformed.timestamp);
    assert_eq!(original.key, transformed.key);
    assert_eq!(original.value, transformed.value);
}

/// A record like Java's header tests build: key "key", value "value".
fn header_record(h: &[(&str, Option<&str>)]) -> SinkRecord {
    let mut r = keyed(Data::Text("key".into()), Data::Text("value".into()));
    r.timestamp = Some(0);
    r.headers = headers(h);
    r
}

fn topic_after(chain: &TransformChain, topic: &str) -> String {
    let mut r = record(Value::Null);
    r.topic = topic.into();
    apply(chain, r).topic.to_string()
}

/// A `Filter` gated by predicate `p` of `class`: drops exactly the records
/// the predicate matches.
fn predicate_chain(
    class: &str,
    settings: &[(&str, &str)],
) -> Result<TransformChain, Vec<ConfigIssue>> {
    let mut c = ConfigMap::new();
    for (k, v) in [
        ("transforms", "f"),
        ("transforms.f.type", "Filter"),
        ("transforms.f.predicate", "p"),
        ("predicates", "p"),
        ("predicates.p.type", class),
    ] {
        c.insert(k.into(), v.into());
    }
    for (k, v) in settings {
        c.insert(format!("predicates.p.{k}"), v.to_string());
    }
    TransformChain::from_config(&c)
}

fn predicate_refused(class: &str, settings: &[(&str, &str)]) -> Vec<ConfigIssue> {
    match predicate_chain(class, settings) {
        Ok(_) => panic!("{class} {settings:?} was accepted"),
        Err(issues) => issues,
    }
}

fn matches(chain: &TransformChain, r: SinkRecord) -> bool {
    chain.apply(r).unwrap().is_none()
}

/// `CastTest`.
mod cast_test {
    use super::*;

    fn cast_whole_value(spec: &str, v: Value) -> Data {
        apply(&chain("Cast$Value", &[("spec", spec)]), record(v)).value
    }

    // CastTest.testConfigEmpty
    #[test]
    fn test_config_empty() {
        let i = refused("Cast$Key", &[("spec", "")]);
        assert_eq!(i[0].key, "transforms.t.spec");
    }

    // CastTest.testConfigInvalidSchemaType
    #[test]
    fn test_config_invalid_schema_type() {
        let i = refused("Cast$Key", &[("spec", "foo:faketype")]);
        assert_eq!(i[0].key, "transforms.t.spec");
        assert!(i[0].message.contains("faketype"), "{}", i[0].message);
    }

    // CastTest.testConfigInvalidTargetType
    #[test]
    fn test_config_invalid_target_type() {
        for spec in ["foo:array", "array"] {
            let i = refused("Cast$Key", &[("spec", spec)]);
            assert_eq!(i[0].key, "transforms.t.spec", "{spec}");
        }
    }

    // CastTest.testUnsupportedTargetType
    #[test]
    fn test_unsupported_target_type() {
        let i = refused("Cast$Key", &[("spec", "foo:bytes")]);
        assert_eq!(i[0].key, "transforms.t.spec");
    }

    // CastTest.testConfigInvalidMap
    #[test]
    fn test_config_invalid_map() {
        let i = refused("Cast$Key", &[("spec", "foo:int8:extra")]);
        assert_eq!(i[0].key, "transforms.t.spec");
    }

    // CastTest.testConfigMixWholeAndFieldTransformation
    #[test]
    fn test_config_mix_whole_and_field_transformation() {
        let i = refused("Cast$Key", &[("spec", "foo:int8,int32")]);
        assert_eq!(i[0].key, "transforms.t.spec");
    }

    // CastTest.castNullValueRecordSchemaless
    #[test]
    fn cast_null_value_record_schemaless() {
        let c = chain("Cast$Value", &[("spec", "foo:int64")]);
        let original = keyed(Data::Text("key".into()), Data::Null);
        let out = apply(&c, original.clone());
        assert_eq!(out.key, original.key);
        assert_eq!(out.value, Data::Null);
    }

    // CastTest.castNullKeyRecordSchemaless
    #[test]
    fn cast_null_key_record_schemaless() {
        let c = chain("Cast$Key", &[("spec", "foo:int64")]);
        let original = keyed(Data::Null, Data::Text("value".into()));
        let out = apply(&c, original.clone());
        assert_eq!(out.key, Data::Null);
        assert_eq!(out.value, original.value);
    }

    // CastTest.castWholeRecordKeySchemaless
    #[test]
    fn cast_whole_record_key_schemaless() {
        let c = chain("Cast$Key", &[("spec", "int8")]);
        let out = apply(&c, keyed(Data::Json(json!(42)), Data::Text("bogus".into())));
        assert_eq!(out.key, Data::Json(json!(42)));
        assert_eq!(out.value, Data::Text("bogus".into()));
    }

    // CastTest.castWholeRecordValueSchemalessInt8
    #[test]
    fn cast_whole_record_value_schemaless_int8() {
        assert_eq!(cast_whole_value("int8", json!(42)), Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessInt16
    #[test]
    fn cast_whole_record_value_schemaless_int16() {
        assert_eq!(cast_whole_value("int16", json!(42)), Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessInt32
    #[test]
    fn cast_whole_record_value_schemaless_int32() {
        assert_eq!(cast_whole_value("int32", json!(42)), Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessInt64
    #[test]
    fn cast_whole_record_value_schemaless_int64() {
        assert_eq!(cast_whole_value("int64", json!(42)), Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessFloat32
    #[test]
    fn cast_whole_record_value_schemaless_float32() {
        let out = cast_whole_value("float32", json!(42));
        assert_eq!(out, Data::Json(json!(42.0)));
        // A float, not the integer 42.
        assert_ne!(out, Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessFloat64
    #[test]
    fn cast_whole_record_value_schemaless_float64() {
        let out = cast_whole_value("float64", json!(42));
        assert_eq!(out, Data::Json(json!(42.0)));
        assert_ne!(out, Data::Json(json!(42)));
    }

    // CastTest.castWholeRecordValueSchemalessBooleanTrue
    #[test]
    fn cast_whole_record_value_schemaless_boolean_true() {
        assert_eq!(
            cast_whole_value("boolean", json!(42)),
            Data::Json(json!(true))
        );
    }

    // CastTest.castWholeRecordValueSchemalessBooleanFalse
    #[test]
    fn cast_whole_record_value_schemaless_boolean_false() {
        assert_eq!(
            cast_whole_value("boolean", json!(0)),
            Data::Json(json!(false))
        );
    }

    // CastTest.castWholeRecordValueSchemalessString
    #[test]
    fn cast_whole_record_value_schemaless_string() {
        assert_eq!(
            cast_whole_value("string", json!(42)),
            Data::Json(json!("42"))
        );
    }

    // CastTest.castWholeRecordValueSchemalessUnsupportedType
    #[test]
    fn cast_whole_record_value_schemaless_unsupported_type() {
        let c = chain("Cast$Value", &[("spec", "int8")]);
        let e = c.apply(record(json!(["foo"]))).unwrap_err();
        assert_eq!(e.class, "Cast$Value");
    }

    // CastTest.castFieldsSchemaless
    #[test]
    fn cast_fields_schemaless() {
        let c = chain(
            "Cast$Value",
            &[(
                "spec",
                "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32",
            )],
        );
        let out = apply(
            &c,
            record(json!({
                "int8": 8, "int16": 16, "int32": 32, "int64": 64,
                "float32": 32.0, "float64": -64.0, "boolean": true, "string": "42"
            })),
        );
        assert_eq!(
            out.value,
            Data::Json(json!({
                "int8": 8, "int16": 16, "int32": 32, "int64": true,
                "float32": 32.0, "float64": true, "boolean": 1, "string": 42
            }))
        );
    }
}

/// `DropHeadersTest`.
mod drop_headers_test {
    use super::*;

    // DropHeadersTest.dropExistingHeader
    #[test]
    fn drop_existing_header() {
        let c = chain("DropHeaders", &[("headers", "to-drop")]);
        let original = header_record(&[
            ("existing", Some("existing-value")),
            ("to-drop", Some("existing-value")),
        ]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(
            out.headers,
            headers(&[("existing", Some("existing-value"))])
        );
    }

    // DropHeadersTest.dropExistingHeaderWithMultipleValues
    #[test]
    fn drop_existing_header_with_multiple_values() {
        let c = chain("DropHeaders", &[("headers", "to-drop")]);
        let original = header_record(&[
            ("existing", Some("existing-value")),
            ("to-drop", Some("existing-value")),
            ("to-drop", Some("existing-other-value")),
        ]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(
            out.headers,
            headers(&[("existing", Some("existing-value"))])
        );
    }

    // DropHeadersTest.dropNonExistingHeader
    #[test]
    fn drop_non_existing_header() {
        let c = chain("DropHeaders", &[("headers", "to-drop")]);
        let original = header_record(&[("existing", Some("existing-value"))]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(out.headers, original.headers);
    }

    // DropHeadersTest.configRejectsEmptyList
    #[test]
    fn config_rejects_empty_list() {
        let i = refused("DropHeaders", &[("headers", "")]);
        assert_eq!(i[0].key, "transforms.t.headers");
    }
}

/// `ExtractFieldTest`.
mod extract_field_test {
    use super::*;

    // ExtractFieldTest.schemaless
    #[test]
    fn schemaless() {
        let c = chain("ExtractField$Key", &[("field", "magic")]);
        let out = apply(&c, keyed(Data::Json(json!({"magic": 42})), Data::Null));
        assert_eq!(out.key, Data::Json(json!(42)));
    }

    // ExtractFieldTest.schemalessAndNestedPath
    #[test]
    fn schemaless_and_nested_path() {
        let c = chain(
            "ExtractField$Key",
            &[("field.syntax.version", "V2"), ("field", "magic.foo")],
        );
        let out = apply(
            &c,
            keyed(Data::Json(json!({"magic": {"foo": 42}})), Data::Null),
        );
        assert_eq!(out.key, Data::Json(json!(42)));
    }

    // ExtractFieldTest.nullSchemaless
    #[test]
    fn null_schemaless() {
        let c = chain("ExtractField$Key", &[("field", "magic")]);
        let out = apply(&c, keyed(Data::Null, Data::Text("value".into())));
        assert_eq!(out.key, Data::Null);
        assert_eq!(out.value, Data::Text("value".into()));
    }

    // ExtractFieldTest.nonExistentFieldSchemalessShouldReturnNull
    #[test]
    fn non_existent_field_schemaless_should_return_null() {
        let c = chain("ExtractField$Key", &[("field", "nonexistent")]);
        let out = apply(&c, keyed(Data::Json(json!({"magic": 42})), Data::Null));
        assert!(out.key.is_null(), "{:?}", out.key);
    }

    // ExtractFieldTest.nonExistentNestedFieldSchemalessShouldReturnNull
    #[test]
    fn non_existent_nested_field_schemaless_should_return_null() {
        let c = chain(
            "ExtractField$Key",
            &[
                ("field.syntax.version", "V2"),
                ("field", "magic.nonexistent"),
            ],
        );
        let out = apply(
            &c,
            keyed(Data::Json(json!({"magic": {"foo": 42}})), Data::Null),
        );
        assert!(out.key.is_null(), "{:?}", out.key);
    }
}

/// `FlattenTest`.
mod flatten_test {
    use super::*;

    // FlattenTest.topLevelMapRequired
    #[test]
    fn top_level_map_required() {
        let c = chain("Flatten$Value", &[]);
        let e = c.apply(record(json!(42))).unwrap_err();
        assert!(
            e.message.contains("Only Map objects supported"),
            "{}",
            e.message
        );
    }

    // FlattenTest.testNestedMapWithDelimiter (without the `bytes` field)
    #[test]
    fn test_nested_map_with_delimiter() {
        let c = chain("Flatten$Value", &[("delimiter", "#")]);
        let out = apply(
            &c,
            record(json!({"A": {"B": {
                "int8": 8, "int16": 16, "int32": 32, "int64": 64,
                "float32": 32.0, "float64": 64.0, "boolean": true, "string": "stringy"
            }}})),
        );
        assert_eq!(
            out.value,
            Data::Json(json!({
                "A#B#int8": 8, "A#B#int16": 16, "A#B#int32": 32, "A#B#int64": 64,
                "A#B#float32": 32.0, "A#B#float64": 64.0, "A#B#boolean": true,
                "A#B#string": "stringy"
            }))
        );
    }

    // FlattenTest.testOptionalFieldMap
    #[test]
    fn test_optional_field_map() {
        let c = chain("Flatten$Value", &[]);
        let out = apply(&c, record(json!({"B": {"opt_int32": null}})));
        assert_eq!(out.value, Data::Json(json!({"B.opt_int32": null})));
    }

    // FlattenTest.testKey
    #[test]
    fn test_key() {
        let c = chain("Flatten$Key", &[]);
        let out = apply(&c, keyed(Data::Json(json!({"A": {"B": 12}})), Data::Null));
        assert_eq!(out.key, Data::Json(json!({"A.B": 12})));
    }

    // FlattenTest.testSchemalessArray
    #[test]
    fn test_schemaless_array() {
        let c = chain("Flatten$Value", &[]);
        let value = json!({"foo": ["bar", {"baz": {"lfg": "lfg"}}]});
        // Maps inside arrays are not flattened.
        assert_eq!(apply(&c, record(value.clone())).value, Data::Json(value));
    }

    // FlattenTest.tombstoneEventWithoutSchemaShouldPassThrough
    #[test]
    fn tombstone_event_without_schema_should_pass_through() {
        let c = chain("Flatten$Value", &[]);
        let out = apply(&c, keyed(Data::Null, Data::Null));
        assert_eq!(out.value, Data::Null);
    }

    // FlattenTest.testMapWithNullFields
    #[test]
    fn test_map_with_null_fields() {
        let c = chain("Flatten$Value", &[]);
        let value = json!({
            "firstNull": null, "firstNonNull": "nonNull", "secondNull": null,
            "secondNonNull": "alsoNonNull", "thirdNonNull": null
        });
        assert_eq!(apply(&c, record(value.clone())).value, Data::Json(value));
    }
}

/// `HeaderFromTest`.
mod header_from_test {
    use super::*;

    struct HeaderFromCase {
        description: &'static str,
        original_fields: Value,
        original_headers: &'static [(&'static str, Option<&'static str>)],
        fields: &'static str,
        headers: &'static str,
        operation: &'static str,
        replace_null_with_default: &'static str,
        expected_fields: Value,
        expected_headers: &'static [(&'static str, Option<&'static str>)],
    }

    // HeaderFromTest.schemaless (every case of `data()`, key and value)
    #[test]
    fn schemaless() {
        let struct_value = json!({"foo": "foo-value"});
        let cases = [
            HeaderFromCase {
                description: "basic copy",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "copy",
                replace_null_with_default: "true",
                expected_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                ],
            },
            HeaderFromCase {
                description: "basic move",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "move",
                replace_null_with_default: "true",
                expected_fields: json!({"field2": "field2-value"}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                ],
            },
            HeaderFromCase {
                description: "copy with preexisting header",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("inserted1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "copy",
                replace_null_with_default: "true",
                expected_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                expected_headers: &[
                    ("inserted1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                ],
            },
            HeaderFromCase {
                description: "move with preexisting header",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("inserted1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "move",
                replace_null_with_default: "true",
                expected_fields: json!({"field2": "field2-value"}),
                expected_headers: &[
                    ("inserted1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                ],
            },
            // Java puts the Struct itself in the header; header values here are
            // raw bytes, a non-string field its JSON text (README, headers.rs).
            HeaderFromCase {
                description: "copy with struct value",
                original_fields: json!({"field1": struct_value, "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "copy",
                replace_null_with_default: "true",
                expected_fields: json!({"field1": struct_value, "field2": "field2-value"}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some(r#"{"foo":"foo-value"}"#)),
                ],
            },
            HeaderFromCase {
                description: "move with struct value",
                original_fields: json!({"field1": struct_value, "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1",
                headers: "inserted1",
                operation: "move",
                replace_null_with_default: "true",
                expected_fields: json!({"field2": "field2-value"}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some(r#"{"foo":"foo-value"}"#)),
                ],
            },
            HeaderFromCase {
                description: "two headers from same field",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1,field1",
                headers: "inserted1,inserted2",
                operation: "move",
                replace_null_with_default: "true",
                expected_fields: json!({"field2": "field2-value"}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                    ("inserted2", Some("field1-value")),
                ],
            },
            HeaderFromCase {
                description: "two fields to same header",
                original_fields: json!({"field1": "field1-value", "field2": "field2-value"}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1,field2",
                headers: "inserted1,inserted1",
                operation: "move",
                replace_null_with_default: "true",
                expected_fields: json!({}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                    ("inserted1", Some("field2-value")),
                ],
            },
            HeaderFromCase {
                description: "Copy null field without default",
                original_fields: json!({"field1": "field1-value", "field2": null}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1,field2",
                headers: "inserted1,inserted2",
                operation: "copy",
                replace_null_with_default: "false",
                expected_fields: json!({"field1": "field1-value", "field2": null}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                    ("inserted2", None),
                ],
            },
            HeaderFromCase {
                description: "Move null field without default",
                original_fields: json!({"field1": "field1-value", "field2": null}),
                original_headers: &[("header1", Some("existing-value"))],
                fields: "field1,field2",
                headers: "inserted1,inserted2",
                operation: "move",
                replace_null_with_default: "false",
                expected_fields: json!({}),
                expected_headers: &[
                    ("header1", Some("existing-value")),
                    ("inserted1", Some("field1-value")),
                    ("inserted2", None),
                ],
            },
        ];
        for case in &cases {
            for key_transform in [true, false] {
                let class = if key_transform {
                    "HeaderFrom$Key"
                } else {
                    "HeaderFrom$Value"
                };
                let c = chain(
                    class,
                    &[
                        ("fields", case.fields),
                        ("headers", case.headers),
                        ("operation", case.operation),
                        ("replace.null.with.default", case.replace_null_with_default),
                    ],
                );
                let build = |fields: &Value, h: &[(&str, Option<&str>)]| {
                    let mut r = header_record(h);
                    if key_transform {
                        r.key = Data::Json(fields.clone());
                    } else {
                        r.value = Data::Json(fields.clone());
                    }
                    r
                };
                let original = build(&case.original_fields, case.original_headers);
                let expected = build(&case.expected_fields, case.expected_headers);
                let out = apply(&c, original);
                let what = format!("{} ({class})", case.description);
                assert_eq!(out.key, expected.key, "{what}");
                assert_eq!(out.value, expected.value, "{what}");
                assert_eq!(out.headers, expected.headers, "{what}");
                assert_eq!(out.topic, expected.topic, "{what}");
                assert_eq!(out.timestamp, expected.timestamp, "{what}");
            }
        }
    }

    // HeaderFromTest.invalidConfigExtraHeaderConfig
    #[test]
    fn invalid_config_extra_header_config() {
        for class in ["HeaderFrom$Key", "HeaderFrom$Value"] {
            let i = refused(
                class,
                &[
                    ("headers", "foo"),
                    ("fields", "foo,bar"),
                    ("operation", "copy"),
                    ("replace.null.with.default", "true"),
                ],
            );
            assert_eq!(i[0].key, "transforms.t.headers", "{class}");
        }
    }

    // HeaderFromTest.invalidConfigExtraFieldConfig
    #[test]
    fn invalid_config_extra_field_config() {
        for class in ["HeaderFrom$Key", "HeaderFrom$Value"] {
            let i = refused(
                class,
                &[
                    ("headers", "foo,bar"),
                    ("fields", "foo"),
                    ("operation", "copy"),
                    ("replace.null.with.default", "true"),
                ],
            );
            assert_eq!(i[0].key, "transforms.t.headers", "{class}");
        }
    }

    // HeaderFromTest.invalidConfigEmptyHeadersAndFieldsConfig
    #[test]
    fn invalid_config_empty_headers_and_fields_config() {
        for class in ["HeaderFrom$Key", "HeaderFrom$Value"] {
            let i = refused(
                class,
                &[
                    ("headers", ""),
                    ("fields", ""),
                    ("operation", "copy"),
                    ("replace.null.with.default", "true"),
                ],
            );
            assert!(!i.is_empty(), "{class}");
            assert!(
                i.iter()
                    .all(|i| i.key == "transforms.t.fields" || i.key == "transforms.t.headers"),
                "{i:?}"
            );
        }
    }
}

/// `HoistFieldTest`.
mod hoist_field_test {
    use super::*;

    // HoistFieldTest.schemaless
    #[test]
    fn schemaless() {
        let c = chain("HoistField$Key", &[("field", "magic")]);
        let out = apply(&c, keyed(Data::Json(json!(42)), Data::Null));
        assert_eq!(out.key, Data::Json(json!({"magic": 42})));
    }

    // HoistFieldTest.testSchemalessMapIsMutable
    #[test]
    fn test_schemaless_map_is_mutable() {
        let c = chain("HoistField$Key", &[("field", "magic")]);
        let out = apply(&c, keyed(Data::Json(json!(420)), Data::Null));
        let Data::Json(Value::Object(mut key)) = out.key else {
            panic!("not a map: {:?}", out.key);
        };
        key.insert("k".into(), json!("v"));
        assert_eq!(Value::Object(key), json!({"k": "v", "magic": 420}));
    }
}

/// `InsertFieldTest`.
mod insert_field_test {
    use super::*;

    const INSERT_FIELD_PROPS: &[(&str, &str)] = &[
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];

    // InsertFieldTest.schemalessInsertConfiguredFields
    #[test]
    fn schemaless_insert_configured_fields() {
        let c = chain("InsertField$Value", INSERT_FIELD_PROPS);
        let mut r = record(json!({"magic": 42}));
        r.timestamp = Some(123);
        let out = apply(&c, r);
        assert_eq!(
            out.value,
            Data::Json(json!({
                "magic": 42, "topic_field": "test", "partition_field": 0,
                "timestamp_field": 123, "instance_id": "my-instance-id"
            }))
        );
    }

    // InsertFieldTest.insertConfiguredFieldsIntoTombstoneEventWithoutSchemaLeavesValueUnchanged
    #[test]
    fn insert_configured_fields_into_tombstone_event_without_schema_leaves_value_unchanged() {
        let c = chain("InsertField$Value", INSERT_FIELD_PROPS);
        let out = apply(&c, keyed(Data::Null, Data::Null));
        assert_eq!(out.value, Data::Null);
    }

    // InsertFieldTest.insertKeyFieldsIntoTombstoneEvent
    #[test]
    fn insert_key_fields_into_tombstone_event() {
        let c = chain("InsertField$Key", INSERT_FIELD_PROPS);
        let mut r = keyed(Data::Json(json!({"magic": 42})), Data::Null);
        r.timestamp = None;
        let out = apply(&c, r);
        assert_eq!(
            out.key,
            Data::Json(json!({
                "magic": 42, "topic_field": "test", "partition_field": 0,
                "timestamp_field": null, "instance_id": "my-instance-id"
            }))
        );
        assert_eq!(out.value, Data::Null);
    }

    // InsertFieldTest.insertIntoNullKeyLeavesRecordUnchanged
    #[test]
    fn insert_into_null_key_leaves_record_unchanged() {
        let c = chain("InsertField$Key", INSERT_FIELD_PROPS);
        let original = keyed(Data::Null, Data::Json(json!({"magic": 42})));
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(out.headers, original.headers);
    }
}

/// `InsertHeaderTest`.
mod insert_header_test {
    use super::*;

    // InsertHeaderTest.insertionWithExistingOtherHeader
    #[test]
    fn insertion_with_existing_other_header() {
        let c = chain(
            "InsertHeader",
            &[("header", "inserted"), ("value.literal", "inserted-value")],
        );
        let original = header_record(&[("existing", Some("existing-value"))]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(
            out.headers,
            headers(&[
                ("existing", Some("existing-value")),
                ("inserted", Some("inserted-value")),
            ])
        );
    }

    // InsertHeaderTest.insertionWithExistingSameHeader
    #[test]
    fn insertion_with_existing_same_header() {
        let c = chain(
            "InsertHeader",
            &[("header", "existing"), ("value.literal", "inserted-value")],
        );
        let original = header_record(&[("existing", Some("preexisting-value"))]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        assert_eq!(
            out.headers,
            headers(&[
                ("existing", Some("preexisting-value")),
                ("existing", Some("inserted-value")),
            ])
        );
    }

    // InsertHeaderTest.insertionWithByteHeader
    #[test]
    fn insertion_with_byte_header() {
        let c = chain(
            "InsertHeader",
            &[("header", "inserted"), ("value.literal", "1")],
        );
        let original = header_record(&[("existing", Some("existing-value"))]);
        let out = apply(&c, original.clone());
        assert_non_headers(&original, &out);
        // Deliberate difference (README, "header values stay raw bytes"): Java
        // parses the literal into an INT8 header 1; here the header is the
        // literal's UTF-8 bytes, "1".
        assert_eq!(
            out.headers,
            headers(&[
                ("existing", Some("existing-value")),
                ("inserted", Some("1"))
            ])
        );
    }

    // InsertHeaderTest.configRejectsNullHeaderKey
    #[test]
    fn config_rejects_null_header_key() {
        let i = refused("InsertHeader", &[("value.literal", "1")]);
        assert_eq!(i[0].key, "transforms.t.header");
    }

    // InsertHeaderTest.configRejectsNullHeaderValue
    #[test]
    fn config_rejects_null_header_value() {
        let i = refused("InsertHeader", &[("header", "inserted")]);
        assert_eq!(i[0].key, "transforms.t.value.literal");
    }
}

/// `MaskFieldTest`.
mod mask_field_test {
    use super::*;

    /// Java's `VALUES`, less what JSON cannot hold (`date`, `bigint`, `bigdec`).
    fn mask_values() -> Value {
        json!({
            "magic": 42, "bool": true, "byte": 42, "short": 42, "int": 42, "long": 42,
            "float": 42.0, "double": 42.0, "string": "55.121.20.20",
            "list": [42], "map": {"key": "value"}
        })
    }

    fn mask(fields: &str, replacement: Option<&str>) -> Result<Value, String> {
        let mut settings = vec![("fields", fields), ("replace.null.with.default", "false")];
        if let Some(r) = replacement {
            settings.push(("replacement", r));
        }
        let c = chain("MaskField$Value", &settings);
        match c.apply(record(mask_values())) {
            Ok(Some(r)) => match r.value {
                Data::Json(v) => Ok(v),
                other => panic!("{other:?}"),
            },
            Ok(None) => panic!("dropped"),
            Err(e) => Err(e.message),
        }
    }

    // MaskFieldTest.testSchemaless
    #[test]
    fn test_schemaless() {
        let out = mask(
            "bool,byte,short,int,long,float,double,string,list,map",
            None,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "magic": 42, "bool": false, "byte": 0, "short": 0, "int": 0, "long": 0,
                "float": 0.0, "double": 0.0, "string": "", "list": [], "map": {}
            })
        );
    }

    // MaskFieldTest.testSchemalessWithReplacement
    #[test]
    fn test_schemaless_with_replacement() {
        for (field, replacement, expected) in [
            ("short", "123", json!(123)),
            ("byte", "123", json!(123)),
            ("int", "123", json!(123)),
            ("long", "123", json!(123)),
            ("float", "123.0", json!(123.0)),
            ("double", "123.0", json!(123.0)),
            ("string", "123", json!("123")),
        ] {
            let out = mask(field, Some(replacement)).unwrap();
            assert_eq!(out[field], expected, "{field}");
        }
    }

    // MaskFieldTest.testSchemalessUnsupportedReplacementType
    #[test]
    fn test_schemaless_unsupported_replacement_type() {
        for (fields, replacement) in [("bool", "false"), ("list", "[123]"), ("map", "{123=321}")] {
            let e = mask(fields, Some(replacement)).unwrap_err();
            assert!(e.contains("Cannot mask value of type"), "{fields}: {e}");
        }
        // ("int", "date") with a Date's string form: the int cannot take it.
        assert!(mask("int,bool", Some("Tue Jan 03 06:30:01 UTC 2017")).is_err());
    }

    // MaskFieldTest.testReplacementTypeMismatch
    #[test]
    fn test_replacement_type_mismatch() {
        for field in ["byte", "short", "int", "long", "float", "double"] {
            assert!(mask(field, Some("foo")).is_err(), "{field}");
        }
        assert!(mask("int", Some("Tue Jan 03 06:30:01 UTC 2017")).is_err());
        assert!(mask("int", Some("java.lang.Object@1b6d3586")).is_err());
        assert!(mask("string,int", Some("foo")).is_err());
    }

    // MaskFieldTest.testEmptyStringReplacementValue
    #[test]
    fn test_empty_string_replacement_value() {
        let i = refused(
            "MaskField$Value",
            &[("fields", "short"), ("replacement", "")],
        );
        assert_eq!(i[0].key, "transforms.t.replacement");
        assert!(
            i[0].message.contains("String must be non-empty"),
            "{}",
            i[0].message
        );
    }
}

/// `RegexRouterTest`.
mod regex_router_test {
    use super::*;

    fn regex_route(regex: &str, replacement: &str, topic: &str) -> String {
        topic_after(
            &chain(
                "RegexRouter",
                &[("regex", regex), ("replacement", replacement)],
            ),
            topic,
        )
    }

    // RegexRouterTest.staticReplacement
    #[test]
    fn static_replacement() {
        assert_eq!(regex_route("foo", "bar", "foo"), "bar");
    }

    // RegexRouterTest.doesntMatch
    #[test]
    fn doesnt_match() {
        assert_eq!(regex_route("foo", "bar", "orig"), "orig");
    }

    // RegexRouterTest.identity
    #[test]
    fn identity() {
        assert_eq!(regex_route("(.*)", "$1", "orig"), "orig");
    }

    // RegexRouterTest.addPrefix
    #[test]
    fn add_prefix() {
        assert_eq!(regex_route("(.*)", "prefix-$1", "orig"), "prefix-orig");
    }

    // RegexRouterTest.addSuffix
    #[test]
    fn add_suffix() {
        assert_eq!(regex_route("(.*)", "$1-suffix", "orig"), "orig-suffix");
    }

    // RegexRouterTest.slice
    #[test]
    fn slice() {
        assert_eq!(
            regex_route("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$1", "index-20160117"),
            "index"
        );
    }
}

/// `ReplaceFieldTest`.
mod replace_field_test {
    use super::*;

    // ReplaceFieldTest.tombstoneSchemaless
    #[test]
    fn tombstone_schemaless() {
        let c = chain(
            "ReplaceField$Value",
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = apply(&c, keyed(Data::Null, Data::Null));
        assert_eq!(out.value, Data::Null);
    }

    // ReplaceFieldTest.schemaless
    #[test]
    fn schemaless() {
        let c = chain(
            "ReplaceField$Value",
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = apply(
            &c,
            record(json!({"dont": "whatever", "abc": 42, "foo": true, "etc": "etc"})),
        );
        assert_eq!(
            out.value,
            Data::Json(json!({"xyz": 42, "bar": true, "etc": "etc"}))
        );
    }
}

/// `SetSchemaMetadataTest`.
mod set_schema_metadata_test {
    use super::*;

    // SetSchemaMetadataTest.valueSchemaRequired
    #[test]
    fn value_schema_required() {
        let c = chain("SetSchemaMetadata$Value", &[]);
        let out = apply(&c, keyed(Data::Null, Data::Json(json!(42))));
        // Deliberate difference (README transforms row, "SetSchemaMetadata
        // (passes through)"): Java refuses a schemaless value with a
        // DataException; here a schemaless value has no schema to rename and
        // passes through unchanged.
        assert_eq!(out.value, Data::Json(json!(42)));
        assert_eq!(out.key, Data::Null);
    }

    // SetSchemaMetadataTest.ignoreRecordWithNullValue
    #[test]
    fn ignore_record_with_null_value() {
        let c = chain("SetSchemaMetadata$Value", &[]);
        let out = apply(&c, keyed(Data::Null, Data::Null));
        assert_eq!(out.key, Data::Null);
        assert_eq!(out.value, Data::Null);
    }
}

/// `TimestampRouterTest`.
mod timestamp_router_test {
    use super::*;

    // TimestampRouterTest.defaultConfiguration
    #[test]
    fn default_configuration() {
        let c = chain("TimestampRouter", &[]);
        let mut r = keyed(Data::Null, Data::Null);
        r.timestamp = Some(1_483_425_001_864);
        assert_eq!(&*apply(&c, r).topic, "test-20170103");
    }
}

/// `ValueToKeyTest`.
mod value_to_key_test {
    use super::*;

    // ValueToKeyTest.schemaless
    #[test]
    fn schemaless() {
        let c = chain("ValueToKey", &[("fields", "a,b")]);
        let out = apply(&c, record(json!({"a": 1, "b": 2, "c": 3})));
        assert_eq!(out.key, Data::Json(json!({"a": 1, "b": 2})));
    }
}

/// `TopicNameMatchesTest`.
mod topic_name_matches_test {
    use super::*;

    // TopicNameMatchesTest.testPatternRequiredInConfig
    #[test]
    fn test_pattern_required_in_config() {
        let i = predicate_refused("TopicNameMatches", &[]);
        assert_eq!(i[0].key, "predicates.p.pattern");
        // Connect names the prefixed key when it validates a connector's config.
        assert!(
            i[0].message
                .contains("Missing required configuration \"predicates.p.pattern\""),
            "{}",
            i[0].message
        );
    }

    // TopicNameMatchesTest.testPatternMayNotBeEmptyInConfig
    #[test]
    fn test_pattern_may_not_be_empty_in_config() {
        let i = predicate_refused("TopicNameMatches", &[("pattern", "")]);
        assert_eq!(i[0].key, "predicates.p.pattern");
        assert!(
            i[0].message.contains("String must be non-empty"),
            "{}",
            i[0].message
        );
    }

    // TopicNameMatchesTest.testPatternIsValidRegexInConfig
    #[test]
    fn test_pattern_is_valid_regex_in_config() {
        let i = predicate_refused("TopicNameMatches", &[("pattern", "[")]);
        assert_eq!(i[0].key, "predicates.p.pattern");
        assert!(i[0].message.contains("Invalid regex"), "{}", i[0].message);
    }

    // TopicNameMatchesTest.testConfig
    #[test]
    fn test_config() {
        assert!(predicate_chain("TopicNameMatches", &[("pattern", "my-prefix-.*")]).is_ok());
        let i = predicate_refused("TopicNameMatches", &[("pattern", "*")]);
        assert_eq!(i.len(), 1, "{i:?}");
        assert!(i[0].message.contains("Invalid regex"), "{}", i[0].message);
    }

    // TopicNameMatchesTest.testTest (a record without a topic has no
    // counterpart: topics are never null here)
    #[test]
    fn test_test() {
        let c = predicate_chain("TopicNameMatches", &[("pattern", "my-prefix-.*")]).unwrap();
        let with_topic = |t: &str| {
            let mut r = record(Value::Null);
            r.topic = t.into();
            r
        };
        assert!(matches(&c, with_topic("my-prefix-")));
        assert!(matches(&c, with_topic("my-prefix-foo")));
        assert!(!matches(&c, with_topic("x-my-prefix-")));
        assert!(!matches(&c, with_topic("x-my-prefix-foo")));
        assert!(!matches(&c, with_topic("your-prefix-")));
        assert!(!matches(&c, with_topic("your-prefix-foo")));
    }
}

/// `HasHeaderKeyTest`.
mod has_header_key_test {
    use super::*;

    // HasHeaderKeyTest.testNameRequiredInConfig
    #[test]
    fn test_name_required_in_config() {
        let i = predicate_refused("HasHeaderKey", &[]);
        assert_eq!(i[0].key, "predicates.p.name");
        assert!(
            i[0].message
                .contains("Missing required configuration \"predicates.p.name\""),
            "{}",
            i[0].message
        );
    }

    // HasHeaderKeyTest.testNameMayNotBeEmptyInConfig
    #[test]
    fn test_name_may_not_be_empty_in_config() {
        let i = predicate_refused("HasHeaderKey", &[("name", "")]);
        assert_eq!(i[0].key, "predicates.p.name");
        assert!(
            i[0].message.contains("String must be non-empty"),
            "{}",
            i[0].message
        );
    }

    // HasHeaderKeyTest.testConfig
    #[test]
    fn test_config() {
        assert!(predicate_chain("HasHeaderKey", &[("name", "foo")]).is_ok());
        let i = predicate_refused("HasHeaderKey", &[("name", "")]);
        assert_eq!(i.len(), 1, "{i:?}");
        assert!(
            i[0].message.contains(
                "Invalid value  for configuration predicates.p.name: String must be non-empty"
            ),
            "{}",
            i[0].message
        );
    }

    // HasHeaderKeyTest.testTest
    #[test]
    fn test_test() {
        let c = predicate_chain("HasHeaderKey", &[("name", "foo")]).unwrap();
        let with_headers = |keys: &[&str]| {
            let mut r = record(Value::Null);
            r.headers = keys.iter().map(|k| (k.to_string(), None)).collect();
            r
        };
        assert!(matches(&c, with_headers(&["foo"])));
        assert!(matches(&c, with_headers(&["foo", "bar"])));
        assert!(matches(&c, with_headers(&["bar", "foo", "bar", "foo"])));
        assert!(!matches(&c, with_headers(&["bar"])));
        assert!(!matches(&c, with_headers(&["bar", "bar"])));
        assert!(!matches(&c, with_headers(&[])));
    }
}
