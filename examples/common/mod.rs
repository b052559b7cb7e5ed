//! What the examples share: picking a runtime, and Ctrl-C as a future.
//!
//! Nothing here is part of stream-plus; it is the few lines a program needs
//! around a pipeline to run it on a runtime of the user's choice.

// Each example uses a different part of this file.
#![allow(dead_code)]

pub mod live_view;

use futures::future::{BoxFuture, Future, FutureExt};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The runtimes the examples can run on; the pipelines are the same on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Smol,
    Tokio,
    AsyncStd,
}

impl Runtime {
    pub const NAMES: &'static str = "smol|tokio|async-std";

    pub fn from_name(name: &str) -> Result<Runtime, String> {
        match name {
            "smol" => Ok(Runtime::Smol),
            "tokio" => Ok(Runtime::Tokio),
            "async-std" => Ok(Runtime::AsyncStd),
            other => Err(format!(
                "unknown runtime {other:?} (want {})",
                Runtime::NAMES
            )),
        }
    }

    /// Runs `job` to completion. On tokio it is spawned onto a worker of a
    /// multi-thread runtime, so the pipeline really runs off the main thread.
    pub fn block_on<F>(self, job: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Runtime::Smol => smol::block_on(job),
            Runtime::Tokio => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("could not start a tokio runtime");
                match rt.block_on(rt.spawn(job)) {
                    Ok(out) => out,
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
            Runtime::AsyncStd => async_std::task::block_on(async_std::task::spawn(job)),
        }
    }

    /// Spawns `task` (a `decouple` driver, say) and returns a future for its
    /// end. Call it from inside [`Runtime::block_on`] on the same runtime.
    pub fn spawn<F>(self, task: F) -> BoxFuture<'static, ()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self {
            Runtime::Smol => smol::spawn(task).boxed(),
            Runtime::Tokio => tokio::spawn(task)
                .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
                .boxed(),
            Runtime::AsyncStd => async_std::task::spawn(task).boxed(),
        }
    }
}

/// Resolves on the first Ctrl-C (or SIGTERM); a second one exits the process at once
/// (status 130). Install it once per process.
pub fn ctrl_c() -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = async_channel::bounded::<()>(1);
    let presses = AtomicUsize::new(0);
    let installed = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Relaxed) > 0 {
            eprintln!("\ninterrupted twice: exiting now");
            std::process::exit(130);
        }
        let _ = tx.try_send(());
    });
    if let Err(err) = installed {
        eprintln!("warning: no Ctrl-C handler ({err}); Ctrl-C will kill the program");
    }
    async move {
        // An error means the handler (and its sender) is gone: never resolve.
        if rx.recv().await.is_err() {
            futures::future::pending::<()>().await;
        }
    }
}
