//! Records per second through the converter and transform stages alone, on
//! one core: JsonConverter on a 10-field JSON record, AvroConverter on the
//! same record in Confluent's wire format (schema from a stub registry,
//! fetched once), and a 5-step SMT chain on the Avro-converted records:
//! what the chain adds to decoding each record, and what each step adds to
//! the steps before it. It runs with the binary's allocator (mimalloc).
//!
//!   cargo bench -p connect-runtime --bench stages
//!
//! Prints the figures and writes them to `$BENCH_STAGES_RESULTS` (default
//! `~/.cache/connect-host/stages-bench-results.md`). Targets (issue 13, not
//! asserted anywhere): Avro ≥ 200,000 records/s per core; the chain costs
//! less than 20 % of that.

use std::time::{Duration, Instant};

use apache_avro::types::Value as Avro;
use connect_api::{ConfigMap, Data, SinkRecord};
use connect_runtime::converters::{self, Origin};
use connect_runtime::transforms::TransformChain;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCHEMA: &str = r#"{"type":"record","name":"Product","namespace":"shop","fields":[
  {"name":"id","type":"long"},
  {"name":"name","type":"string"},
  {"name":"description","type":"string"},
  {"name":"category","type":"string"},
  {"name":"brand","type":"string"},
  {"name":"price","type":"double"},
  {"name":"rating","type":"float"},
  {"name":"quantity","type":"int"},
  {"name":"in_stock","type":"boolean"},
  {"name":"added","type":{"type":"long","logicalType":"timestamp-millis"}}
]}"#;

/// The allocator the `connect-host` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDS: usize = 200_000;
/// Records per timed batch of the chain measurement, and batches per step.
const BATCH: usize = 2_000;
const ROUNDS: usize = 400;

/// A registry that answers every request with schema 1 (no version lookup
/// succeeds, which the converter treats as best-effort).
async fn stub_registry() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let (status, body) = if request.starts_with("GET /schemas/ids/1") {
                    ("200 OK", serde_json::json!({"schema": SCHEMA}).to_string())
                } else {
                    (
                        "404 Not Found",
                        r#"{"error_code":40401,"message":"Subject not found."}"#.to_string(),
                    )
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

fn avro_record(i: i64) -> Vec<Avro> {
    vec![
        Avro::Long(i),
        Avro::String(format!("Trail running shoe {i}")),
        Avro::String(
            "Lightweight trail running shoe with a grippy outsole and a breathable mesh upper"
                .into(),
        ),
        Avro::String("footwear".into()),
        Avro::String("Northpeak".into()),
        Avro::Double(89.99 + i as f64 % 10.0),
        Avro::Float(4.5),
        Avro::Int((i % 50) as i32),
        Avro::Boolean(i % 3 != 0),
        Avro::TimestampMillis(1_714_571_130_123 + i),
    ]
}

fn json_record(i: i64) -> Vec<u8> {
    serde_json::json!({
        "id": i, "name": format!("Trail running shoe {i}"),
        "description": "Lightweight trail running shoe with a grippy outsole and a breathable mesh upper",
        "category": "footwear", "brand": "Northpeak", "price": 89.99 + i as f64 % 10.0,
        "rating": 4.5, "quantity": i % 50, "in_stock": i % 3 != 0, "added": 1_714_571_130_123i64 + i,
    })
    .to_string()
    .into_bytes()
}

/// Records/s of `f` over `inputs`, best of five runs.
fn rate<T>(inputs: &[T], mut f: impl FnMut(&T)) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for input in inputs {
            f(input);
        }
        best = best.min(start.elapsed());
    }
    inputs.len() as f64 / best.as_secs_f64()
}

/// A record of the bench topic, whose name its records share as a task's do.
fn record(value: Data) -> SinkRecord {
    thread_local! {
        static TOPIC: std::sync::Arc<str> = "products".into();
    }
    SinkRecord {
        topic: TOPIC.with(|t| t.clone()),
        partition: 0,
        offset: 0,
        timestamp: Some(1_714_571_130_123),
        key: Data::Null,
        value,
        headers: Vec::new(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(stub_registry());
    let at = Origin::topic("products");

    // JSON.
    let json_inputs: Vec<Vec<u8>> = (0..RECORDS as i64).map(json_record).collect();
    let props: ConfigMap = [("schemas.enable".to_string(), "false".to_string())].into();
    let json = converters::create("JsonConverter", &props).unwrap();
    let json_rate = rate(&json_inputs, |b| {
        std::hint::black_box(json.to_connect(at, Some(b)).unwrap());
    });

    // Avro, Confluent's wire format with schema id 1.
    let schema = apache_avro::Schema::parse_str(SCHEMA).unwrap();
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .unwrap();
    let avro_inputs: Vec<Vec<u8>> = (0..RECORDS as i64)
        .map(|i| {
            let fields = schema_fields(&schema);
            let value = Avro::Record(fields.into_iter().zip(avro_record(i)).collect());
            let mut bytes = vec![0, 0, 0, 0, 1];
            bytes.extend(writer.write_value_to_vec(value).unwrap());
            bytes
        })
        .collect();
    let props: ConfigMap = [("schema.registry.url".to_string(), url)].into();
    let avro = converters::create("AvroConverter", &props).unwrap();
    if let Some(fetch) = avro.prepare(at, Some(&avro_inputs[0])) {
        runtime.block_on(fetch).unwrap();
    }
    let avro_rate = rate(&avro_inputs, |b| {
        std::hint::black_box(avro.to_connect(at, Some(b)).unwrap());
    });

    // A 5-step chain on the Avro records.
    let chain_config: ConfigMap = [
        ("transforms", "insert,drop,mask,cast,route"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.static.field", "source"),
        ("transforms.insert.static.value", "bench"),
        (
            "transforms.drop.type",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
        ),
        ("transforms.drop.exclude", "brand"),
        (
            "transforms.mask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.mask.fields", "category"),
        (
            "transforms.cast.type",
            "org.apache.kafka.connect.transforms.Cast$Value",
        ),
        ("transforms.cast.spec", "quantity:int64,in_stock:string"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "$1-enriched"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The chain runs on each record just decoded, as in a task (the record
    // is still in cache); its cost is the time beyond decoding alone. The
    // differences are small beside the decoding, so each configuration is
    // timed on many small batches, interleaved, and its fastest batch kept.
    let aliases: Vec<&str> = chain_config["transforms"].split(',').collect();
    let prefixes: Vec<TransformChain> = (1..=aliases.len())
        .map(|n| {
            let mut prefix = chain_config.clone();
            prefix.insert("transforms".into(), aliases[..n].join(","));
            TransformChain::from_config(&prefix).unwrap()
        })
        .collect();
    let batch = &avro_inputs[..BATCH];
    let mut best = vec![Duration::MAX; prefixes.len() + 1];
    for _ in 0..ROUNDS {
        for (slot, best) in best.iter_mut().enumerate() {
            let chain = slot.checked_sub(1).map(|i| &prefixes[i]);
            let start = Instant::now();
            for b in batch {
                let r = record(avro.to_connect(at, Some(b)).unwrap());
                match chain {
                    Some(chain) => drop(std::hint::black_box(chain.apply(r).unwrap())),
                    None => drop(std::hint::black_box(r)),
                }
            }
            *best = (*best).min(start.elapsed());
        }
    }
    let per_record: Vec<f64> = best
        .iter()
        .map(|d| d.as_secs_f64() / BATCH as f64)
        .collect();
    let mut steps = String::new();
    for (n, alias) in aliases.iter().enumerate() {
        steps.push_str(&format!(
            "| {} | {:.0} |\n",
            chain_config[&format!("transforms.{alias}.type")]
                .trim_start_matches("org.apache.kafka.connect.transforms."),
            (per_record[n + 1] - per_record[n]) * 1e9
        ));
    }
    let chain_seconds = per_record[aliases.len()] - per_record[0];
    let chain_rate = chain_seconds.recip();
    let (decode_ns, chain_ns) = (per_record[0] * 1e9, chain_seconds * 1e9);
    let chain_share = chain_seconds / per_record[0] * 100.0;

    let report = format!(
        "# Converter and transform stages, one core, {RECORDS} records of 10 fields\n\n\
         | stage | records/s |\n|---|---|\n\
         | JsonConverter (schemas.enable=false) | {json_rate:.0} |\n\
         | AvroConverter (wire format, cached schema) | {avro_rate:.0} |\n\
         | 5-step SMT chain on the Avro records | {chain_rate:.0} |\n\n\
         Avro target: 200,000 records/s per core.\n\n\
         The chain, run on each record as it is decoded, in batches of {BATCH} \
         (fastest of {ROUNDS}): decoding takes {decode_ns:.0} ns per record, the \
         chain adds {chain_ns:.0} ns, {chain_share:.0} % of the decoding time \
         (target: under 20 %).\n\n\
         | chain step (added to the steps before it) | ns/record |\n|---|---|\n{steps}"
    );
    print!("{report}");
    let path = std::env::var("BENCH_STAGES_RESULTS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/connect-host/stages-bench-results.md",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    if let Err(e) = std::fs::write(&path, &report) {
        eprintln!("cannot write {path}: {e}");
    } else {
        println!("written to {path}");
    }
}

fn schema_fields(schema: &apache_avro::Schema) -> Vec<String> {
    match schema {
        apache_avro::Schema::Record(r) => r.fields.iter().map(|f| f.name.clone()).collect(),
        _ => unreachable!("the bench schema is a record"),
    }
}
