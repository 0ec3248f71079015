//! Thin entry point: parse the command line, run the app, map errors to exit codes.

use assay::error::AppError;
use clap::Parser;

// mimalloc instead of glibc malloc: a run allocates and frees many small
// buffers per row and per statement; glibc spent a sixth of the client's
// CPU in malloc/free (perf, `assay run -j 1`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // SIGPIPE stays ignored (Rust's default): a closed standard output
    // (`assay run | head -n 1`) makes writes fail with EPIPE, which the
    // report sinks turn into silence, so the run finishes, writes its report
    // files, cleans up and exits with its own code.
    let cli = assay::cli::Cli::parse();
    // Commands that only wait on databases and servers run every future on
    // this thread: with worker threads, each socket wake-up would hop
    // between threads (a futex wake and a context switch per round trip,
    // measurable against psql). Commands that generate data spread their
    // CPU work over worker threads.
    let mut builder = if cli.command_spreads_cpu_work() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            assay::tell!("error: cannot start the async runtime: {e}");
            std::process::exit(assay::error::exit_code::INFRASTRUCTURE);
        }
    };
    let code = runtime.block_on(async {
        let mut sigterm =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    return report(AppError::infra(format!(
                        "cannot install signal handler: {e}"
                    )))
                }
            };
        // Dropping the app future on a signal drops the database, which stops
        // an embedded server and removes its files.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::select! {
            biased;
            _ = ctrl_c => {
                assay::tell!("interrupted: stopping");
                cancel_queries().await;
                130
            }
            _ = sigterm.recv() => {
                assay::tell!("terminated: stopping");
                cancel_queries().await;
                143
            }
            r = assay::app::main(cli) => match r {
                Ok(code) => code,
                Err(e) => report(e),
            },
        }
    });
    drop(runtime);
    std::process::exit(code);
}

/// Cancels what this process still runs on databases it does not own.
async fn cancel_queries() {
    let n = assay::db::cancel::cancel_all(std::time::Duration::from_secs(3)).await;
    if n > 0 {
        assay::tell!(
            "cancelled {n} running quer{}",
            if n == 1 { "y" } else { "ies" }
        );
    }
}

fn report(e: AppError) -> i32 {
    match &e {
        AppError::Input(_) => assay::tell!("{e}"),
        other => assay::tell!("error: {other}"),
    }
    e.exit_code()
}
