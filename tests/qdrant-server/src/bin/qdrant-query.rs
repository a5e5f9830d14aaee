//! `qdrant-query`: a tiny qdrant-client CLI for the demo, since the test
//! server speaks gRPC only.
//!
//!   qdrant-query --url http://127.0.0.1:6334 --collection C count
//!   qdrant-query --url https://qdrant:6334 --api-key KEY --collection C count
//!   connect-host embed <<< '"a phrase"' | qdrant-query --collection C search --limit 5

use qdrant_client::Qdrant;
use qdrant_client::qdrant::{CountPointsBuilder, QueryPointsBuilder};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = "http://127.0.0.1:6334".to_string();
    let mut collection = String::new();
    let mut limit = 5u64;
    let mut command = String::new();
    let mut api_key = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().unwrap_or_default(),
            "--collection" => collection = args.next().unwrap_or_default(),
            "--limit" => limit = args.next().unwrap_or_default().parse()?,
            "--api-key" => api_key = args.next(),
            "count" | "search" => command = arg,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let client = Qdrant::from_url(&url)
        .api_key(api_key)
        .skip_compatibility_check()
        .build()?;
    match command.as_str() {
        "count" => {
            let count = client
                .count(CountPointsBuilder::new(&collection).exact(true))
                .await
                .map(|r| r.result.map_or(0, |c| c.count))
                .unwrap_or(0);
            println!("{count}");
        }
        "search" => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let vector: Vec<f32> = serde_json::from_str(line.trim())?;
            // Points are events; many are about the same product. Show
            // distinct products, best first, with how many events matched.
            let hits = client
                .query(
                    QueryPointsBuilder::new(&collection)
                        .query(vector)
                        .limit(2_000)
                        .with_payload(true),
                )
                .await?
                .result;
            let mut shown: Vec<(String, f32, serde_json::Value, usize)> = Vec::new();
            for hit in hits {
                let product = hit
                    .payload
                    .get("product")
                    .map(|p| serde_json::to_value(p).unwrap_or_default())
                    .unwrap_or_default();
                let id = product["id"].as_str().unwrap_or_default().to_string();
                if let Some(entry) = shown.iter_mut().find(|(seen, ..)| *seen == id) {
                    entry.3 += 1;
                } else if shown.len() < limit as usize {
                    shown.push((id, hit.score, product, 1));
                }
            }
            for (_, score, product, events) in shown {
                println!(
                    "  {:.3}  {:<55} {:>9}  {:<15} ({events} events)",
                    score,
                    product["name"].as_str().unwrap_or("?"),
                    product["price"].to_string(),
                    product["category"].as_str().unwrap_or("")
                );
            }
        }
        _ => anyhow::bail!(
            "usage: qdrant-query [--url U] [--api-key K] --collection C (count | search [--limit N] < vector.json)"
        ),
    }
    Ok(())
}
