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
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut generator = Generator::new(args.seed, args.catalogue_size, args.malformed_rate);
    if args.stdout {
        for _ in 0..args.count {
            println!("{}", String::from_utf8_lossy(&generator.next_event().value));
        }
        return Ok(());
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap_servers)
        .set("linger.ms", "10")
        .create()?;
    let start = Instant::now();
    let mut pending = Vec::new();
    for i in 0..args.count {
        let event = generator.next_event();
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
        "generate-events: {} events sent to {} in {:.1?}",
        args.count,
        args.topic,
        start.elapsed()
    );
    Ok(())
}
