//! The process the signal tests start (`tests/app_signals.rs`): a root tree of three
//! workers that print `started <id>` and `stopped <id>` on stdout, `ready` once the
//! tree runs, and `outcome <text>` at the end; its exit code is the outcome's.
//!
//! `--hang` gives the last worker a `terminate` that never returns (and no shutdown
//! timeout), so only the deadline ends the stop. `--log-format plain|json` as the apps.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use arbor_actor::{Context, Exit, GenServer, Init};
use arbor_app::logging::{LogFormat, Logging};
use arbor_app::Application;
use arbor_supervisor::{ChildSpec, Shutdown, SupervisorOptions};

#[derive(Clone)]
struct Worker {
    id: &'static str,
    hangs: bool,
}

impl GenServer for Worker {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        say(&format!("started {}", self.id));
        Init::Ready(())
    }

    async fn terminate(&self, _: &Exit, _: &mut (), _ctx: &mut Context<Self>) {
        say(&format!("stopping {}", self.id));
        if self.hangs {
            std::future::pending::<()>().await;
        }
        say(&format!("stopped {}", self.id));
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The test reads stdout line by line as it comes: flush each one.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let hang = args.iter().any(|arg| arg == "--hang");
    let format = match args.iter().position(|arg| arg == "--log-format") {
        Some(at) => match args.get(at + 1).map(|value| value.parse::<LogFormat>()) {
            Some(Ok(format)) => format,
            Some(Err(error)) => {
                eprintln!("{error}");
                return ExitCode::from(2);
            }
            None => {
                eprintln!("--log-format needs plain or json");
                return ExitCode::from(2);
            }
        },
        None => LogFormat::Plain,
    };
    if let Err(error) = Logging::new("info").format(format).init() {
        eprintln!("{error}");
        return ExitCode::FAILURE;
    }
    let worker = |id, hangs| {
        let spec = ChildSpec::worker(id, Worker { id, hangs }, ());
        if hangs {
            spec.shutdown(Shutdown::Infinity)
        } else {
            spec
        }
    };
    let app = Application::builder([
        worker("first", false),
        worker("second", false),
        worker("third", hang),
    ])
    .options(SupervisorOptions::one_for_one().name("probe"))
    .deadline(Duration::from_millis(500))
    .start()
    .await;
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    say("ready");
    let outcome = app.wait().await;
    say(&format!("outcome {outcome}"));
    outcome.exit_code()
}
