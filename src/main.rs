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
use connect_runtime::worker_config::{AdminListeners, RestListener, RestTls, WorkerConfig};

/// mimalloc rather than glibc's malloc: records, their JSON and the
/// embedder's tokens are many small, short-lived allocations, and glibc's
/// malloc took a quarter of the SMT chain's time (`cargo bench --bench stages`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Hash a password for `rest.auth.credentials.file`: reads the password
    /// from stdin (one line), prints an argon2id hash (or bcrypt with
    /// `--bcrypt`) to put after `user: `.
    HashPassword(HashPasswordArgs),
}

#[derive(clap::Args)]
struct HashPasswordArgs {
    /// A bcrypt hash instead of argon2id.
    #[arg(long)]
    bcrypt: bool,
    /// bcrypt's cost (4 to 31).
    #[arg(long, default_value_t = 12, requires = "bcrypt")]
    cost: u32,
}

fn hash_password(args: &HashPasswordArgs) -> std::process::ExitCode {
    use std::io::BufRead;
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("connect-host: cannot read the password from stdin: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        eprintln!(
            "connect-host: give the password on stdin, e.g. printf '%s' 'secret' | connect-host hash-password"
        );
        return std::process::ExitCode::FAILURE;
    }
    match connect_rest::auth::hash_password(password, args.bcrypt.then_some(args.cost)) {
        Ok(hash) => {
            println!("{hash}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("connect-host: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Embed(args)) = cli.command {
        LogLevels::init(Some(
            &std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        ));
        return embed_command::run(args);
    }
    if let Some(Command::HashPassword(args)) = &cli.command {
        return hash_password(args);
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
    // A misconfigured provider stops start-up rather than each connector later.
    connect_runtime::config_provider::ConfigProviders::from_settings(&config.settings)
        .context("invalid worker configuration")?;
    loggers.set_format(config.log_format);
    loggers
        .apply_initial(&config.log_levels)
        .context("invalid worker configuration")?;
    let config = Arc::new(config);
    let metrics = connect_runtime::monitoring::install(&config.worker_id)
        .context("cannot set up the metrics")?;
    // HTTPS and authentication files are read now: a missing or invalid
    // one stops start-up, naming the setting and the file.
    let main_tls = tls_acceptor(config.rest_tls.as_ref())?;
    let admin_tls = tls_acceptor(config.admin_tls.as_ref())?;
    let auth = connect_rest::Auth::load(&config.rest_auth)
        .context("invalid REST authentication")?
        .map(Arc::new);
    if auth.is_none() && !config.listeners.iter().all(|l| is_loopback(&l.host)) {
        tracing::warn!(
            "the REST API needs no credentials (set rest.auth.credentials.file): anyone who reaches it may change connectors"
        );
    }
    // Writes forwarded to an https leader trust the truststore and show
    // this worker's certificate (plain http workers need no set-up).
    if let Some(tls) = config.rest_tls.as_ref().or(config.admin_tls.as_ref()) {
        connect_rest::configure_forwarding(
            config.advertised_https,
            connect_rest::tls::client_config(Some(tls)).context("invalid HTTPS settings")?,
        );
    }
    let mut main_sockets = Vec::new();
    for listener in &config.listeners {
        main_sockets.push((bind(listener).await?, listener.https));
    }
    let admin_sockets = match &config.admin_listeners {
        AdminListeners::Separate(listeners) => {
            let mut sockets = Vec::new();
            for listener in listeners {
                sockets.push((bind(listener).await?, listener.https));
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
        auth,
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let main = Listener {
        main: true,
        admin: config.admin_listeners == AdminListeners::Main,
    };
    let mut servers = Vec::new();
    for (socket, https) in main_sockets {
        servers.push(tokio::spawn(connect_rest::serve(
            socket,
            main,
            https.then(|| main_tls.clone()).flatten(),
            state.clone(),
            stopped(stop_rx.clone()),
        )));
    }
    for (socket, https) in admin_sockets {
        let admin_only = Listener {
            main: false,
            admin: true,
        };
        servers.push(tokio::spawn(connect_rest::serve(
            socket,
            admin_only,
            https.then(|| admin_tls.clone()).flatten(),
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
async fn bind(listener: &RestListener) -> anyhow::Result<tokio::net::TcpListener> {
    let host = if listener.host.is_empty() {
        "0.0.0.0"
    } else {
        &listener.host
    };
    let address = if host.contains(':') {
        format!("[{host}]:{}", listener.port)
    } else {
        format!("{host}:{}", listener.port)
    };
    let socket = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("listening on {}://{address}", listener.scheme());
    Ok(socket)
}

/// The TLS acceptor of https listeners, from their PEM files.
fn tls_acceptor(tls: Option<&RestTls>) -> anyhow::Result<Option<connect_rest::TlsAcceptor>> {
    tls.map(connect_rest::tls::acceptor)
        .transpose()
        .context("invalid HTTPS settings")
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
