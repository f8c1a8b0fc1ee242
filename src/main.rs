//! The `binder` executable: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

use binder::cli::{Cli, Command};

fn main() -> ExitCode {
    // A missing `.env` is normal; a malformed one is reported by clap's parse below only if
    // it leaves a setting invalid, so the result is deliberately ignored.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("binder: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => binder::server::serve(cli.settings).await,
            Command::Migrate => binder::server::migrate(cli.settings).await,
            Command::Sim(config) => binder::server::simulate(cli.settings, config).await,
            Command::Archive { older_than } => {
                binder::server::archive(cli.settings, older_than).await
            }
            Command::User { command } => binder::auth::cli::run(cli.settings, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Start-up failures are written for a person: one line, the cause, what to do.
            eprintln!("binder: {err:#}");
            ExitCode::FAILURE
        }
    }
}
