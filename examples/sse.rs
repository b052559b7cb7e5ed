//! A stream-plus pipeline served to a browser as Server-Sent Events (tokio +
//! axum).
//!
//! ```text
//! cargo run --release --example sse -- [--port 3000]
//! ```
//!
//! Then open <http://127.0.0.1:3000/>. Each client gets its own pipeline:
//!
//! ```text
//! interval(100ms)                        a sample tick
//!   -> map_concurrent_unordered(4, ..)   probe a (simulated) backend, 4 at a time
//!   -> batch_timeout(10, 1s)             windows of probe results
//!   -> one SSE event per window          JSON: count, mean and max latency
//! ```
//!
//! When the client disconnects, hyper drops the response body, which is the
//! stream: the batch, the probes in flight and the ticker's timer all go with
//! it, at once. The server prints the number of live pipelines and probes
//! whenever a client comes or goes, so you can watch it happen. On Ctrl-C
//! every client's stream ends (`take_until`) and the server shuts down
//! gracefully.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use futures::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use stream_plus::StreamExtPlus;

/// Shared by every connection.
#[derive(Debug)]
struct App {
    tick: Duration,
    window: Duration,
    /// Pipelines alive now (one per connected client).
    pipelines: AtomicUsize,
    /// Probe futures alive now, across all pipelines.
    probes: AtomicUsize,
    next_client: AtomicU64,
    /// Closed on shutdown: every pipeline ends when it is.
    stop: async_channel::Receiver<()>,
}

/// Counts one live thing while it exists.
#[derive(Debug)]
struct Live<'a>(&'a AtomicUsize);

impl<'a> Live<'a> {
    fn new(n: &'a AtomicUsize) -> Live<'a> {
        n.fetch_add(1, Relaxed);
        Live(n)
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// Owned by a client's stream: its drop is the disconnect.
#[derive(Debug)]
struct Client {
    id: u64,
    app: Arc<App>,
}

impl Drop for Client {
    fn drop(&mut self) {
        let left = self.app.pipelines.fetch_sub(1, Relaxed) - 1;
        println!(
            "client {} gone: its pipeline is dropped ({left} pipelines, {} probes in flight)",
            self.id,
            self.app.probes.load(Relaxed)
        );
    }
}

/// A stand-in for a health probe: 20-300 ms, depending on the tick.
async fn probe(app: Arc<App>, n: u64) -> u64 {
    let _live = Live::new(&app.probes);
    let ms = 20 + (n * 7919) % 280;
    async_io::Timer::after(Duration::from_millis(ms)).await;
    ms
}

/// The pipeline one client sees, as SSE events.
fn pipeline(app: Arc<App>) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let id = app.next_client.fetch_add(1, Relaxed);
    app.pipelines.fetch_add(1, Relaxed);
    println!(
        "client {id} connected ({} pipelines)",
        app.pipelines.load(Relaxed)
    );
    let client = Client {
        id,
        app: app.clone(),
    };
    let stop = app.stop.clone();
    let a = app.clone();
    stream_plus::interval(app.tick)
        .enumerate()
        .map_concurrent_unordered(4, move |(n, _)| probe(a.clone(), n as u64))
        .batch_timeout(10, app.window)
        .take_until(async move {
            // Resolves when the server's stop channel closes.
            let _ = stop.recv().await;
        })
        .enumerate()
        .map(move |(seq, window)| {
            // Naming the whole `client` moves it into the closure, so it
            // drops with the stream (`client.id` alone would capture a copy).
            let client = &client;
            let max = window.iter().max().copied().unwrap_or(0);
            let mean = window.iter().sum::<u64>() / window.len() as u64;
            let json = format!(
                r#"{{"client":{},"window":{seq},"probes":{},"mean_ms":{mean},"max_ms":{max}}}"#,
                client.id,
                window.len()
            );
            Ok(Event::default().event("window").data(json))
        })
}

async fn events(State(app): State<Arc<App>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(pipeline(app)).keep_alive(KeepAlive::default())
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>stream-plus SSE</title>
<h1>stream-plus: one pipeline per browser tab</h1>
<p>Each line is one <code>batch_timeout</code> window of probe results. Close the tab and
the server's log shows the pipeline being dropped.</p>
<pre id="log"></pre>
<script>
  const log = document.getElementById("log");
  const source = new EventSource("/events");
  source.addEventListener("window", (e) => {
    log.textContent = e.data + "\n" + log.textContent.split("\n").slice(0, 30).join("\n");
  });
</script>
"#;

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/events", get(events))
        .with_state(app)
}

fn app(tick: Duration, window: Duration) -> (Arc<App>, async_channel::Sender<()>) {
    let (stop_tx, stop) = async_channel::bounded(1);
    let app = Arc::new(App {
        tick,
        window,
        pipelines: AtomicUsize::new(0),
        probes: AtomicUsize::new(0),
        next_client: AtomicU64::new(1),
        stop,
    });
    (app, stop_tx)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = match (args.next().as_deref(), args.next()) {
        (None, _) => 3000,
        (Some("--port"), Some(p)) if p.parse::<u16>().is_ok() => p.parse().unwrap(),
        _ => {
            eprintln!("usage: sse [--port N]");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(err) => {
            eprintln!("sse: cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    println!("open http://127.0.0.1:{port}/ (Ctrl-C stops the server)");
    let (app, stop) = app(Duration::from_millis(100), Duration::from_secs(1));
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down: ending every client's stream");
        drop(stop);
    };
    if let Err(err) = axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("sse: server error: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::IntoFuture;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on a free local port, on the test's runtime.
    async fn serve(app: Arc<App>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, router(app)).into_future());
        addr
    }

    /// Polls `cond` every 10 ms for up to 10 s (a wide margin, not a timing).
    async fn eventually(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..1000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("still not true after 10 s: {what}");
    }

    async fn get_events(
        addr: std::net::SocketAddr,
        windows: usize,
    ) -> (tokio::net::TcpStream, String) {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
            .await
            .unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        let read = async {
            while seen.matches("event: window").count() < windows {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "server closed the stream early: {seen}");
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("no events within 10 s");
        (conn, seen)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_disconnect_drops_the_pipeline_and_its_probes() {
        let (app, _stop) = app(Duration::from_millis(10), Duration::from_millis(100));
        let addr = serve(app.clone()).await;

        let (first, seen) = get_events(addr, 2).await;
        assert!(seen.starts_with("HTTP/1.1 200 OK"), "{seen}");
        assert!(seen.contains("content-type: text/event-stream"), "{seen}");
        assert!(seen.contains(r#""window":1"#), "{seen}");
        let (second, _) = get_events(addr, 1).await;
        assert_eq!(app.pipelines.load(Relaxed), 2);
        assert!(app.probes.load(Relaxed) > 0, "probes should be in flight");

        // One client leaves: only its pipeline goes.
        drop(first);
        eventually("first pipeline dropped", || {
            app.pipelines.load(Relaxed) == 1
        })
        .await;
        drop(second);
        eventually("every pipeline dropped", || {
            app.pipelines.load(Relaxed) == 0
        })
        .await;
        // The probes in flight went with the pipelines; no hidden task runs on.
        eventually("no probe alive", || app.probes.load(Relaxed) == 0).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_ends_every_stream() {
        let (app, stop) = app(Duration::from_millis(10), Duration::from_millis(50));
        let addr = serve(app.clone()).await;
        let (mut conn, _) = get_events(addr, 1).await;
        drop(stop);
        // The server ends the chunked body (the connection itself may stay
        // open for the next request, so read to the last chunk, not to EOF).
        let mut rest = Vec::new();
        let end = async {
            let mut buf = [0u8; 4096];
            while !rest.ends_with(b"0\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "connection closed before the last chunk");
                rest.extend_from_slice(&buf[..n]);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), end)
            .await
            .expect("the stream should end after stop");
        eventually("pipeline dropped", || app.pipelines.load(Relaxed) == 0).await;
    }

    #[tokio::test]
    async fn the_page_subscribes_to_events() {
        let (app, _stop) = app(Duration::from_millis(10), Duration::from_millis(50));
        let addr = serve(app).await;
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut page = String::new();
        conn.read_to_string(&mut page).await.unwrap();
        assert!(page.contains(r#"new EventSource("/events")"#), "{page}");
    }
}
