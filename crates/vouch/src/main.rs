//! The `vouch` binary: one process that serves the API, console and pages, plus the
//! administrative subcommands.

mod backup;
mod config;
mod demo;
mod demo_partners;
mod demo_programs;
mod demo_sales;
mod import;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use vouch_app::{AppError, Ctx};
use vouch_server::AppState;
use vouch_store::Store;
use vouch_store::audit::Origin;

#[derive(Parser)]
#[command(name = "vouch", version, about = "Referral and partner program engine")]
struct Cli {
    /// Configuration file (default: ./vouch.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://path or postgres://user@host/db (env VOUCH_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve HTTP (with the background workers) until SIGINT/SIGTERM.
    Serve {
        /// Listen address (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
        /// Serve HTTP only; deliveries are left to separate `vouch worker` processes.
        #[arg(long)]
        no_worker: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Staff users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// API keys.
    ApiKeys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run only the background workers (webhook delivery), for split deployments.
    Worker,
    /// Load the demo data set (super customers from the seed) and a demo owner login.
    Demo,
    /// Import data from CSV files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE while Vouch runs (for PostgreSQL,
    /// prints how to use pg_dump).
    Backup { file: PathBuf },
    /// The daily rollups dashboards read (clicks, referred signups and wins per program, day and
    /// referrer).
    Rollups {
        #[command(subcommand)]
        command: RollupsCommand,
    },
    /// Replace the SQLite database with a backup made by `vouch backup`, after checking it
    /// (stop Vouch first). Refuses to overwrite a database that has data unless --force.
    Restore {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum RollupsCommand {
    /// Recompute every rollup from the raw clicks and referrals, in one transaction (the click
    /// counts of the days click retention has purged, as it recorded them, are kept).
    Rebuild,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Enrol participants from a CSV file (columns: email, first_name, last_name, referred_by,
    /// signed_up_at, code). Rows already enrolled are skipped, so re-running a file is safe.
    Participants {
        /// The program's slug.
        #[arg(long)]
        program: String,
        /// Check every line and report; save nothing.
        #[arg(long)]
        dry_run: bool,
        /// Read a column as a field: --map "E-mail=email" (repeatable).
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        mapping: Vec<String>,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a staff user. The password is prompted for, or read from stdin.
    Create {
        #[arg(long)]
        email: String,
        /// owner, admin, manager, staff or viewer.
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a staff user's password (a forgotten one, or the demo owner's); their sessions end.
    /// The password is prompted for, or read from stdin.
    SetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// read, write or admin.
        #[arg(long)]
        scope: String,
    },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    vouch_jobs::install_crypto_provider();
    let cli = Cli::parse();
    let bind = match &cli.command {
        Command::Serve { bind, .. } => bind.clone(),
        _ => None,
    };
    let overrides = Overrides {
        bind,
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.clone(),
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    if let Command::Config = cli.command {
        print!("{}", config.redacted_toml()?);
        return Ok(());
    }
    init_logging(&config.log_format);
    if let Command::Restore { file, force } = &cli.command {
        return backup::restore(&config, file, *force).await;
    }
    let store = Store::connect(&config.database_url, config.database_max_connections)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config::redact_url(&config.database_url)
            )
        })?;
    store.migrate().await.context("migrating the database")?;
    let store = if config.database_read_url.is_empty() {
        store
    } else {
        store
            .with_read_replica(&config.database_read_url, config.database_max_connections)
            .context("database_read_url")?
    };
    let ctx = Ctx::new(store.clone(), config.settings())
        .await
        .context("loading the installation's secrets")?;
    let result = match cli.command {
        Command::Serve { no_worker, .. } => serve(&config, ctx, !no_worker).await,
        Command::Worker => work(&config, ctx).await,
        Command::Migrate => {
            println!("database is migrated ({})", store.backend().name());
            Ok(())
        }
        Command::Config => Ok(()),
        Command::Users {
            command:
                UsersCommand::Create {
                    email,
                    role,
                    name,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let user = vouch_app::staff::create_user(
                &ctx,
                &Origin::system(),
                None,
                &email,
                &name,
                &role,
                &password,
            )
            .await
            .map_err(describe)?;
            println!("created {} user {} ({})", user.role, user.email, user.id);
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::SetPassword {
                    email,
                    password_stdin,
                },
        } => {
            let password = read_password(password_stdin)?;
            let user = vouch_app::staff::reset_password(&ctx, &Origin::system(), &email, &password)
                .await
                .map_err(describe)?;
            println!(
                "set the password of {} ({}); their sessions ended",
                user.email, user.id
            );
            Ok(())
        }
        Command::ApiKeys {
            command: KeysCommand::Create { name, scope },
        } => {
            let (key, secret) =
                vouch_app::staff::create_api_key(&ctx, &Origin::system(), &name, &scope)
                    .await
                    .map_err(describe)?;
            eprintln!(
                "created API key {} ({}, scope {}); it is shown once:",
                key.name, key.id, key.scope
            );
            println!("{secret}");
            Ok(())
        }
        Command::Demo => demo::load(&ctx).await,
        Command::Import {
            command:
                ImportCommand::Participants {
                    program,
                    dry_run,
                    mapping,
                    file,
                },
        } => import::participants(&ctx, &program, &file, &mapping, dry_run).await,
        Command::Backup { file } => backup::backup(&store, &file).await,
        Command::Rollups {
            command: RollupsCommand::Rebuild,
        } => {
            let rows = vouch_app::stats::rebuild_rollups(&ctx)
                .await
                .map_err(describe)?;
            println!("rebuilt the daily rollups: {rows} rows");
            Ok(())
        }
        Command::Restore { .. } => Ok(()),
    };
    store.close().await;
    result
}

fn describe(err: AppError) -> anyhow::Error {
    let fields: Vec<String> = err
        .field_errors()
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    if fields.is_empty() {
        anyhow::anyhow!(err.detail())
    } else {
        anyhow::anyhow!(fields.join("; "))
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .read_to_string(&mut line)
            .context("reading the password from stdin")?;
        let first = line.lines().next().unwrap_or_default().to_string();
        if first.is_empty() {
            bail!(
                "no password on standard input: pipe it in (echo \"$PASSWORD\" | vouch users … --password-stdin) or run the command in a terminal to be asked for it"
            );
        }
        first
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    };
    Ok(password)
}

/// A stop signal that many tasks can wait on.
fn stop_signal(
    rx: &tokio::sync::watch::Receiver<bool>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut rx = rx.clone();
    async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

async fn serve(config: &Config, ctx: Ctx, with_worker: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(
        address = %address,
        database = ctx.store.backend().name(),
        base_url = %ctx.settings.base_url,
        "vouch is serving"
    );
    // What a person who just ran `vouch serve` wants next, on standard output (the log is on
    // standard error).
    println!(
        "Vouch is serving on http://{address} ({}): console {}/admin, API reference {}/api/docs",
        ctx.store.backend().name(),
        ctx.settings.base_url,
        ctx.settings.base_url
    );
    // One signal stops the server and the background work; each finishes what it has started
    // first.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if !with_worker {
        tracing::warn!(
            "--no-worker: this process delivers nothing and runs no schedule (reward holds, expired sessions); run `vouch worker` beside it"
        );
    }
    let background = if with_worker {
        let background = vouch_jobs::Background::new(ctx.clone(), config.worker_settings())
            .context("starting the worker")?;
        Some(tokio::spawn(background.run(stop_signal(&stop_rx))))
    } else {
        None
    };
    let state = AppState::with_ctx(ctx);
    let clicks = state.clicks.clone();
    let mut server = tokio::spawn(vouch_server::serve(listener, state, stop_signal(&stop_rx)));
    let served = tokio::select! {
        result = &mut server => result,
        () = shutdown_signal() => {
            let _ = stop_tx.send(true);
            (&mut server).await
        }
    };
    let _ = stop_tx.send(true);
    served.context("the server task failed")??;
    // No request is running any more: write every click still in the buffer.
    clicks.flush_and_stop().await;
    if let Some(background) = background {
        let _ = background.await;
    }
    tracing::info!("stopped: in-flight requests completed");
    Ok(())
}

async fn work(config: &Config, ctx: Ctx) -> anyhow::Result<()> {
    let background = vouch_jobs::Background::new(ctx, config.worker_settings())
        .context("starting the worker")?;
    background.run(shutdown_signal()).await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
