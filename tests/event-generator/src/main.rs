//! `generate-events`: stream e-commerce events into a Kafka topic.

use std::time::{Duration, Instant};

use clap::Parser;
use event_generator::Generator;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Parser)]
#[command(about = "Stream realistic e-commerce events into Kafka (or stdout)")]
struct Args {
    #[arg(long, default_value = "localhost:9092")]
    bootstrap_servers: String,
    #[arg(long, default_value = "ecommerce-events")]
    topic: String,
    /// How many events to send.
    #[arg(long, default_value_t = 5000)]
    count: usize,
    /// Events per second (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Share of malformed events (not JSON, no text, bad id).
    #[arg(long, default_value_t = 0.02)]
    malformed_rate: f64,
    #[arg(long, default_value_t = 300)]
    catalogue_size: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print events instead of producing them.
    #[arg(long)]
    stdout: bool,
    /// Print the text the demo connector embeds ("{name}: {description}"),
    /// one JSON string per line, for `connect-host embed` benchmarks.
    #[arg(long)]
    texts: bool,
    /// Products in catalogue order, not by popularity: every event's text
    /// differs (with a catalogue at least as large as --count).
    #[arg(long)]
    distinct: bool,
    /// Create the topic with this many partitions if it does not exist.
    #[arg(long)]
    create_topic: Option<i32>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut generator = Generator::new(args.seed, args.catalogue_size, args.malformed_rate);
    if args.distinct {
        generator = generator.sequential();
    }
    if args.stdout || args.texts {
        for _ in 0..args.count {
            let event = generator.next_event();
            if args.texts {
                let p = &generator.products[event.product];
                println!(
                    "{}",
                    serde_json::Value::String(format!("{}: {}", p.name, p.description))
                );
            } else {
                println!("{}", String::from_utf8_lossy(&event.value));
            }
        }
        return Ok(());
    }
    if let Some(partitions) = args.create_topic {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &args.bootstrap_servers)
            .create()?;
        let topic = NewTopic::new(&args.topic, partitions, TopicReplication::Fixed(1));
        for result in admin.create_topics([&topic], &AdminOptions::new()).await? {
            match result {
                Ok(_) => eprintln!(
                    "generate-events: created topic {} with {partitions} partitions",
                    args.topic
                ),
                Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(format!("cannot create topic {name}: {code}").into());
                }
            }
        }
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap_servers)
        .set("linger.ms", "10")
        .create()?;
    let start = Instant::now();
    let mut pending = Vec::new();
    let mut malformed = 0;
    for i in 0..args.count {
        let event = generator.next_event();
        malformed += usize::from(event.malformed.is_some());
        let record = FutureRecord::to(&args.topic)
            .key(&event.key)
            .payload(&event.value);
        pending.push(producer.send_result(record).map_err(|(e, _)| e)?);
        if args.rate > 0 {
            let due = start + Duration::from_secs_f64((i + 1) as f64 / args.rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        if pending.len() >= 1000 {
            for p in pending.drain(..) {
                p.await?.map_err(|(e, _)| e)?;
            }
            eprintln!("generate-events: {} events sent", i + 1);
        }
    }
    for p in pending {
        p.await?.map_err(|(e, _)| e)?;
    }
    eprintln!(
        "generate-events: {} events sent to {} in {:.1?} ({malformed} malformed)",
        args.count,
        args.topic,
        start.elapsed()
    );
    println!(
        "{}",
        serde_json::json!({"sent": args.count, "valid": args.count - malformed, "malformed": malformed})
    );
    Ok(())
}
