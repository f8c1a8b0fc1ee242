//! `binder user …`: managing users from the command line, next to the journal. Passwords are
//! read from stdin (with a prompt and no echo on a terminal), never from arguments, so they do
//! not end up in shell history or the process list.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::Subcommand;
use secrecy::{ExposeSecret, SecretString};

use super::{Auth, Role};
use crate::config::Settings;
use crate::journal;
use crate::journal::users;

/// Who the audit log names for changes made with the CLI.
const CLI_ACTOR: &str = "cli";

/// `binder user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin (prompted, without echo, on a terminal).
    Add {
        /// The username (a-z, 0-9, '.', '_', '-').
        name: String,
        /// admin, trader or viewer.
        #[arg(long, value_parser = ["admin", "trader", "viewer"])]
        role: String,
    },
    /// List users with their role and state.
    List,
    /// Clear a lock left by too many failed logins.
    Unlock {
        /// The username.
        name: String,
    },
    /// Set a new password (read from stdin). Ends the user's sessions.
    Passwd {
        /// The username.
        name: String,
    },
    /// Change a user's role. Ends the user's sessions.
    SetRole {
        /// The username.
        name: String,
        /// admin, trader or viewer.
        #[arg(value_parser = ["admin", "trader", "viewer"])]
        role: String,
    },
    /// Disable a user: no sign-in, sessions end.
    Disable {
        /// The username.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The username.
        name: String,
    },
}

/// Runs a `binder user` subcommand against the journal.
pub async fn run(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let pool = journal::open(&settings.database_url).await?;
    let auth = Auth::new_quiet(&settings, pool.clone());
    let result = execute(&auth, command).await;
    pool.close().await;
    result
}

async fn execute(auth: &Auth, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, role } => {
            let role = parse_role(&role)?;
            let password = read_password(&format!("Password for {name}: "), true)?;
            let row = auth
                .create_user(Some(CLI_ACTOR), &name, password, role)
                .await?;
            eprintln!("Created user {} with role {}.", row.username, row.role);
        }
        UserCommand::List => {
            let rows = users::list_users(auth.db()).await?;
            if rows.is_empty() {
                eprintln!("No users yet. Create one with: binder user add NAME --role admin");
            }
            println!(
                "{:<24} {:<8} {:<9} failed_logins",
                "username", "role", "state"
            );
            for u in rows {
                let state = if u.disabled {
                    "disabled"
                } else if u.locked_at.is_some() {
                    "locked"
                } else {
                    "active"
                };
                println!(
                    "{:<24} {:<8} {:<9} {}",
                    u.username, u.role, state, u.failed_logins
                );
            }
        }
        UserCommand::Unlock { name } => {
            auth.unlock_user(CLI_ACTOR, &name).await?;
            eprintln!("Unlocked {name}.");
        }
        UserCommand::Passwd { name } => {
            let password = read_password(&format!("New password for {name}: "), true)?;
            auth.update_user(CLI_ACTOR, &name, None, None, Some(password))
                .await?;
            eprintln!("Password of {name} changed; their sessions have ended.");
        }
        UserCommand::SetRole { name, role } => {
            let role = parse_role(&role)?;
            auth.update_user(CLI_ACTOR, &name, Some(role), None, None)
                .await?;
            eprintln!("{name} is now {role}.");
        }
        UserCommand::Disable { name } => {
            auth.update_user(CLI_ACTOR, &name, None, Some(true), None)
                .await?;
            eprintln!("Disabled {name}.");
        }
        UserCommand::Enable { name } => {
            auth.update_user(CLI_ACTOR, &name, None, Some(false), None)
                .await?;
            eprintln!("Enabled {name}.");
        }
    }
    Ok(())
}

fn parse_role(name: &str) -> anyhow::Result<Role> {
    Role::parse(name).with_context(|| format!("unknown role {name:?}: use admin, trader or viewer"))
}

/// Reads a password: on a terminal, prompts twice with echo off; otherwise reads one line.
fn read_password(prompt: &str, confirm: bool) -> anyhow::Result<SecretString> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        anyhow::ensure!(
            !password.is_empty(),
            "no password on stdin: pipe one in, e.g. `printf '%s\\n' \"$PW\" | binder user add …`"
        );
        return Ok(SecretString::from(password));
    }
    let first = prompt_hidden(prompt)?;
    if confirm {
        let second = prompt_hidden("Repeat it: ")?;
        anyhow::ensure!(
            first.expose_secret() == second.expose_secret(),
            "the passwords differ; nothing was changed"
        );
    }
    Ok(first)
}

/// Prompts on stderr and reads a line from the terminal with echo turned off (via `stty`, to
/// keep dependencies lean; if `stty` is missing the password is echoed, and a note says so).
fn prompt_hidden(prompt: &str) -> anyhow::Result<SecretString> {
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let hidden = stty("-echo");
    if !hidden {
        eprint!("(the password will be visible) ");
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
        eprintln!();
    }
    read.context("cannot read the password")?;
    Ok(SecretString::from(
        line.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}
