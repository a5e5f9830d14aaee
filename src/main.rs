//! `connect-host`: a Kafka Connect compatible worker for sink connectors.

mod embed_command;
mod plugins;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use connect_rest::{AppState, Listener};
use connect_runtime::herder;
use connect_runtime::logging::LogLevels;
use connect_runtime::worker::Worker;
use connect_runtime::worker_config::{AdminListeners, WorkerConfig};

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
    loggers.set_format(config.log_format);
    loggers
        .apply_initial(&config.log_levels)
        .context("invalid worker configuration")?;
    let config = Arc::new(config);
    let metrics = connect_runtime::monitoring::install(&config.worker_id)
        .context("cannot set up the metrics")?;
    let main_listener = bind(&config.listen_host, config.listen_port).await?;
    let admin_sockets = match &config.admin_listeners {
        AdminListeners::Separate(listeners) => {
            let mut sockets = Vec::new();
            for (host, port) in listeners {
                sockets.push(bind(host, *port).await?);
            }
            sockets
        }
        AdminListeners::Main | AdminListeners::Disabled => Vec::new(),
    };
    tracing::info!(worker_id = %config.worker_id, "REST API listening");

    let herder = herder::for_mode(
        Worker::new(config.clone(), plugins::registry()),
        env!("CONNECT_HOST_COMMIT").to_string(),
    )
    .await
    .context("cannot open the config store")?;
    let state = Arc::new(AppState {
        herder: herder.clone(),
        loggers,
        cors: config.cors.clone(),
        metrics: Some(metrics),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let main = Listener {
        main: true,
        admin: config.admin_listeners == AdminListeners::Main,
    };
    let mut servers = vec![tokio::spawn(connect_rest::serve(
        main_listener,
        main,
        state.clone(),
        stopped(stop_rx.clone()),
    ))];
    for socket in admin_sockets {
        let admin_only = Listener {
            main: false,
            admin: true,
        };
        servers.push(tokio::spawn(connect_rest::serve(
            socket,
            admin_only,
            state.clone(),
            stopped(stop_rx.clone()),
        )));
    }
    herder
        .start()
        .await
        .context("cannot start stored connectors")?;
    tracing::info!("worker started");

    shutdown_signal().await;
    tracing::info!("shutting down: stopping tasks and committing offsets");
    herder.shutdown().await;
    let _ = stop_tx.send(true);
    futures::future::join_all(servers).await;
    Ok(())
}

/// A listening socket on `host:port` (all interfaces when `host` is empty).
async fn bind(host: &str, port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let address = format!("{host}:{port}");
    let socket = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("listening on http://{address}");
    Ok(socket)
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
