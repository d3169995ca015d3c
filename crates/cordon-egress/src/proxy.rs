//! The proxy's server: one thread accepting, one per connection (and
//! one more per direction while bytes are relayed).

use std::collections::HashMap;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::allow::Access;
use crate::record::Record;
use crate::resolve::{Resolve, StaticResolver, SystemResolver};
use crate::{conn, sys};

/// The most connections served at once; more are refused with 503.
pub const MAX_CONNECTIONS: usize = 512;

/// How the proxy decides and connects.
#[derive(Clone)]
pub struct Config {
    /// What may be reached.
    pub access: Access,
    /// How allowed host names become addresses. A name that leads to
    /// an internal address ([`internal`](crate::internal)) this way is
    /// not reached.
    pub resolver: Arc<dyn Resolve>,
    /// The user's own mappings of names to addresses (`--resolve
    /// NAME=IP`): asked before `resolver`, and trusted, so a mapped
    /// name reaches its address even when it is internal. A mapping
    /// allows nothing by itself: the name must still be allowed.
    pub mapped: StaticResolver,
    /// The time records count from.
    pub start: Instant,
    /// How long to wait for a destination to accept.
    pub connect_timeout: Duration,
    /// How long a client may take to send its request head (and its
    /// ClientHello after `CONNECT`).
    pub head_timeout: Duration,
}

impl Config {
    /// A configuration with the system resolver, no mappings and
    /// default timeouts (10 s to connect, 30 s for a request head).
    pub fn new(access: Access) -> Config {
        Config {
            access,
            resolver: Arc::new(SystemResolver),
            mapped: StaticResolver::new(),
            start: Instant::now(),
            connect_timeout: Duration::from_secs(10),
            head_timeout: Duration::from_secs(30),
        }
    }
}

/// Where records go.
pub type Sink = Box<dyn Fn(Record) + Send + Sync>;

/// What the threads share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    sink: Sink,
    conns: Mutex<Conns>,
    ended: Condvar,
}

#[derive(Default)]
struct Conns {
    next: u64,
    open: HashMap<u64, Vec<TcpStream>>,
}

impl Shared {
    /// Hands a record to the caller.
    pub(crate) fn record(&self, record: Record) {
        (self.sink)(record);
    }

    /// Keeps a clone of `stream` of connection `id`, so that
    /// [`Handle::stop`] can shut it down.
    pub(crate) fn track(&self, id: u64, stream: &TcpStream) {
        if let Ok(clone) = stream.try_clone() {
            let mut conns = lock(&self.conns);
            conns.open.entry(id).or_default().push(clone);
        }
    }

    fn begin(&self) -> Option<u64> {
        let mut conns = lock(&self.conns);
        if conns.open.len() >= MAX_CONNECTIONS {
            return None;
        }
        conns.next += 1;
        let id = conns.next;
        conns.open.insert(id, Vec::new());
        Some(id)
    }

    fn end(&self, id: u64) {
        lock(&self.conns).open.remove(&id);
        self.ended.notify_all();
    }
}

fn lock(conns: &Mutex<Conns>) -> MutexGuard<'_, Conns> {
    conns.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An egress proxy: serves `CONNECT` tunnels and plain HTTP requests
/// to the destinations its [`Access`] allows, and hands a [`Record`] of
/// every request to its sink.
pub struct Proxy {
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy deciding by `config` and recording through `sink`.
    pub fn new(config: Config, sink: Sink) -> Proxy {
        let shared = Shared {
            config,
            sink,
            conns: Mutex::new(Conns::default()),
            ended: Condvar::new(),
        };
        Proxy { shared: Arc::new(shared) }
    }

    /// Serves the connections of `listener` from a new thread until
    /// [`Handle::stop`].
    pub fn spawn(self, listener: TcpListener) -> std::io::Result<Handle> {
        let waker = listener.try_clone()?;
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("cordon-egress".into())
            .spawn(move || accept_loop(&shared, &listener))?;
        Ok(Handle { waker, thread, shared: self.shared })
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    loop {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {
                continue;
            }
            Err(err) if is_transient(&err) => {
                tracing::debug!("egress proxy: accept: {err}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(_) => return,
        };
        let Some(id) = shared.begin() else {
            conn::refuse_busy(shared, client);
            continue;
        };
        shared.track(id, &client);
        let worker = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("cordon-egress-conn".into())
            .spawn(move || {
                conn::serve(&worker, id, client);
                worker.end(id);
            });
        if spawned.is_err() {
            shared.end(id);
        }
    }
}

/// Errors of `accept` that say nothing about the listener itself.
fn is_transient(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
            | Some(libc::ECONNABORTED)
    )
}

/// A running proxy.
pub struct Handle {
    waker: TcpListener,
    thread: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl Handle {
    /// Stops accepting, gives the open connections `grace` to end, then
    /// shuts down those left and waits for their threads' last records.
    pub fn stop(self, grace: Duration) {
        sys::shutdown_listener(&self.waker);
        let _ = self.thread.join();

        let conns = wait_for(&self.shared, lock(&self.shared.conns), grace);
        for stream in conns.open.values().flatten() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        drop(wait_for(&self.shared, conns, Duration::from_secs(5)));
    }
}

/// Waits up to `limit` for every connection to end.
fn wait_for<'a>(
    shared: &'a Shared,
    mut conns: MutexGuard<'a, Conns>,
    limit: Duration,
) -> MutexGuard<'a, Conns> {
    let deadline = Instant::now() + limit;
    while !conns.open.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        conns = match shared.ended.wait_timeout(conns, deadline - now) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
    conns
}
