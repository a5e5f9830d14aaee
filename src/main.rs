//! `connect-host`: a Kafka Connect compatible worker for sink connectors.

mod embed_command;
mod plugins;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use connect_rest::AppState;
use connect_runtime::herder::{Herder, StandaloneHerder};
use connect_runtime::logging::LogLevels;
use connect_runtime::worker::Worker;
use connect_runtime::worker_config::WorkerConfig;

#[derive(Parser)]
#[command(version, about = "Kafka Connect compatible sink connector host")]
struct Cli {
    /// Worker settings file (.properties, .json or .toml). Without it, the
    /// worker is configured by CONNECT_* environment variables alone.
    #[arg(long, short)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Embed text with the sink's model: one JSON string per line on stdin,
    /// one JSON array of floats per line on stdout, in order.
    Embed(embed_command::EmbedArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Embed(args)) = cli.command {
        LogLevels::init(Some(
            &std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        ));
        return embed_command::run(args);
    }
    let loggers = Arc::new(LogLevels::init(std::env::var("RUST_LOG").ok().as_deref()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("connect-host: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_worker(cli, loggers)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("connect-host: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_worker(cli: Cli, loggers: Arc<LogLevels>) -> anyhow::Result<()> {
    let config = WorkerConfig::load(cli.config.as_deref(), std::env::vars())
        .context("invalid worker configuration")?;
    config
        .check_client_settings()
        .context("invalid worker configuration")?;
    if let Some(group) = &config.group_id {
        tracing::warn!(
            group.id = group,
            "group.id is set but distributed mode is not available yet; running standalone"
        );
    }
    let config = Arc::new(config);
    let bind = format!(
        "{}:{}",
        if config.listen_host.is_empty() {
            "0.0.0.0"
        } else {
            &config.listen_host
        },
        config.listen_port
    );
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(worker_id = %config.worker_id, "REST API listening on http://{bind}");

    let herder = Arc::new(StandaloneHerder::new(
        Worker::new(config.clone(), plugins::registry()),
        env!("CONNECT_HOST_COMMIT").to_string(),
    ));
    let state = Arc::new(AppState {
        herder: herder.clone() as Arc<dyn Herder>,
        loggers,
    });
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(connect_rest::serve(listener, state, async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    herder
        .start()
        .await
        .map_err(anyhow::Error::msg)
        .context("cannot start stored connectors")?;
    tracing::info!("worker started");

    shutdown_signal().await;
    tracing::info!("shutting down: stopping tasks and committing offsets");
    herder.shutdown().await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
