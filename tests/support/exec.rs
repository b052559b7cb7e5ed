//! The five executors every operator is tested on.

use std::future::Future;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    TokioCurrentThread,
    TokioMultiThread,
    Smol,
    AsyncStd,
    FuturesBlockOn,
}

pub const EXECUTORS: [Executor; 5] = [
    Executor::TokioCurrentThread,
    Executor::TokioMultiThread,
    Executor::Smol,
    Executor::AsyncStd,
    Executor::FuturesBlockOn,
];

impl Executor {
    /// Runs the future made by `make` to completion on this executor. A panic
    /// inside it is re-raised here with its original payload.
    pub fn run<Fut, M>(self, make: M) -> Fut::Output
    where
        M: FnOnce() -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        match self {
            Executor::TokioCurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(make()),
            Executor::TokioMultiThread => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                // Run on a worker thread, not on the thread that blocks.
                let task = rt.spawn(make());
                match rt.block_on(task) {
                    Ok(out) => out,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => panic!("tokio task failed: {e}"),
                }
            }
            Executor::Smol => {
                let ex = smol::Executor::new();
                smol::block_on(ex.run(make()))
            }
            Executor::AsyncStd => async_std::task::block_on(make()),
            Executor::FuturesBlockOn => futures::executor::block_on(make()),
        }
    }
}

/// Runs a fresh future from `make` on every executor in turn (for property
/// tests, where one generated case must hold everywhere).
pub fn on_every_executor<Fut, M>(make: M)
where
    M: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for exec in EXECUTORS {
        exec.run(&make);
    }
}
