//! A pipeline's stages as Prometheus series, through the `metrics` facade
//! (feature `metrics`).
//!
//! ```text
//! cargo run --release --features metrics --example metrics -- [--listen 127.0.0.1:9187] [--seconds N]
//! curl -s 127.0.0.1:9187/metrics | grep stream_plus
//! ```
//!
//! Every observed point records, label `stage`: counters
//! `stream_plus_items_total` and `stream_plus_{busy,backpressured,idle}_seconds_total`
//! (whole seconds), gauges `stream_plus_in_flight` and `stream_plus_workers`.
//! A dashboard's `rate(stream_plus_busy_seconds_total[1m])` is then each
//! stage's busy share, the figure that says which stage to give more workers.
//!
//! The recorder must be installed before the pipeline is built: a point takes
//! its handles from the recorder installed when it is made.

use futures::stream::{self, Stream, StreamExt};
use metrics_exporter_prometheus::PrometheusBuilder;
use std::net::SocketAddr;
use std::time::Duration;
use stream_plus::{Stats, StreamExtPlus};

/// An item every 2 ms, a lookup of 5 ms with 4 workers, a sink that keeps up.
fn pipeline(stats: &Stats, items: u64) -> impl Stream<Item = u64> + Send + 'static {
    stream::iter(0..items)
        .then(|i| async move {
            async_io::Timer::after(Duration::from_millis(2)).await;
            i
        })
        .observe(stats, "source")
        .map_concurrent(4, |i| async move {
            async_io::Timer::after(Duration::from_millis(5)).await;
            i * 2
        })
        .observe(stats, "lookup")
}

/// Runs the pipeline for about `seconds`, serving `/metrics` on `listen`.
fn serve(listen: SocketAddr, seconds: u64) -> Stats {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .install()
        .expect("installing the Prometheus exporter");
    let stats = Stats::new();
    let items = seconds * 500;
    let sum = smol::block_on(pipeline(&stats, items).fold(0u64, |a, x| async move { a + x }));
    assert_eq!(sum, items * (items - 1));
    stats
}

fn main() {
    let mut listen: SocketAddr = "127.0.0.1:9187".parse().unwrap();
    let mut seconds = 30;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--listen" => listen = value.parse().expect("--listen ADDR:PORT"),
            "--seconds" => seconds = value.parse().expect("--seconds N"),
            other => {
                eprintln!(
                    "unknown argument {other}\nusage: metrics [--listen ADDR:PORT] [--seconds N]"
                );
                std::process::exit(2);
            }
        }
    }
    println!("serving http://{listen}/metrics for about {seconds} s");
    let stats = serve(listen, seconds);
    for s in stats.snapshot() {
        println!(
            "{}: {} items, {:.0}% busy",
            s.name,
            s.items,
            100.0 * s.busy_ratio()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn scrape(addr: SocketAddr) -> String {
        let mut conn = TcpStream::connect(addr).expect("connecting to the exporter");
        write!(
            conn,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut body = String::new();
        conn.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        body
    }

    /// The value of `name{stage="..."}` in a scrape, if it is there.
    fn value(scrape: &str, name: &str, stage: &str) -> Option<f64> {
        let key = format!("{name}{{stage=\"{stage}\"}} ");
        scrape
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .map(|v| v.trim().parse().unwrap())
    }

    /// Scrapes the endpoint over HTTP while the pipeline runs: the series are
    /// there, labelled by stage, and they move.
    #[test]
    fn a_scrape_while_the_pipeline_runs_shows_the_series_move() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let runner = std::thread::spawn(move || serve(addr, 4));
        let mut scrapes = Vec::new();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(1200));
            scrapes.push(scrape(addr));
        }
        let stats = runner.join().unwrap();
        let (first, last) = (&scrapes[0], &scrapes[2]);
        for stage in ["source", "lookup"] {
            let a = value(first, "stream_plus_items_total", stage).unwrap_or(0.0);
            let b = value(last, "stream_plus_items_total", stage).expect(last);
            assert!(b > a, "{stage}: items {a} then {b}");
        }
        // The source waits on its own timer the whole time: busy, whole
        // seconds, so it has moved by the third scrape.
        let busy = value(last, "stream_plus_busy_seconds_total", "source").expect(last);
        assert!(busy >= 1.0, "{last}");
        // The lookup waits on the source most of the time: idle.
        let idle = value(last, "stream_plus_idle_seconds_total", "lookup").expect(last);
        assert!(idle >= 1.0, "{last}");
        assert_eq!(
            value(last, "stream_plus_workers", "lookup"),
            Some(4.0),
            "{last}"
        );
        assert!(
            value(last, "stream_plus_in_flight", "lookup").is_some(),
            "{last}"
        );
        assert_eq!(stats.snapshot()[1].items, 2000);
    }
}
