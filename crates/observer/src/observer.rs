//! [`Observer`] and its builder.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arbor_supervisor::Supervisor;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::live;
use crate::routes::{self, Shared};
use crate::token::Token;
use crate::ObserverError;

/// Where an observer listens unless told otherwise: loopback, port 9000.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9000);

/// How often the page is updated by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// A live web view of a running supervision tree (Erlang's observer, in a browser).
///
/// It serves one page that draws the tree and each stage's throughput, updated live,
/// and JSON under `/api`. It listens on loopback unless
/// [`allow_non_loopback`](ObserverBuilder::allow_non_loopback) says otherwise, and is
/// read-only unless [`enable_actions`](ObserverBuilder::enable_actions) says otherwise;
/// then a stop or restart needs the random [`token`](Observer::token) made at start.
///
/// It stops with [`Observer::stop`] or when dropped.
///
/// # Examples
///
/// ```
/// use arbor_observer::Observer;
/// use arbor_supervisor::{Supervisor, SupervisorOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = Supervisor::start([], SupervisorOptions::one_for_one().name("app")).await?;
/// let observer = Observer::builder(root.clone())
///     .bind(([127, 0, 0, 1], 0).into()) // any free port
///     .enable_actions()
///     .start()
///     .await?;
/// println!("observer at {}", observer.url_with_token());
/// assert!(observer.local_addr().ip().is_loopback());
/// assert_eq!(observer.token().map(str::len), Some(32));
/// observer.stop().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Observer {
    addr: SocketAddr,
    token: Option<Token>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl Observer {
    /// An observer of the tree under `root` (the application's root supervisor, say
    /// [`Running::supervisor`](https://docs.rs/arbor-app/latest/arbor_app/struct.Running.html#method.supervisor)).
    pub fn builder(root: Supervisor) -> ObserverBuilder {
        ObserverBuilder {
            root,
            addr: DEFAULT_ADDR,
            non_loopback: false,
            actions: false,
            prometheus: Prometheus::None,
            interval: DEFAULT_INTERVAL,
        }
    }

    /// The address it listens on (with the port chosen when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The page's address, with the actions token in the fragment when actions are
    /// enabled (`…/#token=…`): a fragment is never sent to the server or in a `Referer`,
    /// and the page reads it from there.
    pub fn url_with_token(&self) -> String {
        match &self.token {
            Some(token) => format!("{}#token={}", self.url(), token.as_str()),
            None => self.url(),
        }
    }

    /// The actions token, when actions are enabled: send it as
    /// `Authorization: Bearer <token>`. It is not logged: print it where the operator
    /// will read it.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Token::as_str)
    }

    /// Stops serving: open pages stop updating, and it returns once the server has
    /// closed its connections.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The options of an [`Observer`]; [`start`](ObserverBuilder::start) it.
#[derive(Debug)]
pub struct ObserverBuilder {
    root: Supervisor,
    addr: SocketAddr,
    non_loopback: bool,
    actions: bool,
    prometheus: Prometheus,
    interval: Duration,
}

#[derive(Debug)]
enum Prometheus {
    None,
    Install,
    Handle(PrometheusHandle),
}

impl ObserverBuilder {
    /// Where to listen (default [`DEFAULT_ADDR`]); port 0 picks a free port. An address
    /// that is not loopback is refused unless
    /// [`allow_non_loopback`](ObserverBuilder::allow_non_loopback) is called too.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serves on an address that is not loopback: anyone who reaches it sees the tree.
    pub fn allow_non_loopback(mut self) -> Self {
        self.non_loopback = true;
        self
    }

    /// Lets the page (and `POST /api/actors/{actor}/{restart|stop}`) stop and restart
    /// children, with the token made at start. Off by default: the view is read-only.
    pub fn enable_actions(mut self) -> Self {
        self.actions = true;
        self
    }

    /// Installs the `metrics` crate's Prometheus recorder for the whole process and
    /// serves it at `/metrics` (and on the page).
    pub fn install_prometheus(mut self) -> Self {
        self.prometheus = Prometheus::Install;
        self
    }

    /// Serves a Prometheus recorder the program installed itself at `/metrics`.
    pub fn prometheus(mut self, handle: PrometheusHandle) -> Self {
        self.prometheus = Prometheus::Handle(handle);
        self
    }

    /// How often open pages are updated (default [`DEFAULT_INTERVAL`]).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Listens and serves, in a task of the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`ObserverError`]: a non-loopback address not allowed, the address not bound, the
    /// Prometheus recorder not installed, no token made.
    pub async fn start(self) -> Result<Observer, ObserverError> {
        if !self.addr.ip().is_loopback() && !self.non_loopback {
            return Err(ObserverError::NotLoopback(self.addr));
        }
        let token = self
            .actions
            .then(Token::random)
            .transpose()
            .map_err(ObserverError::Token)?;
        let asked = self.addr;
        let bind_error = |source| ObserverError::Bind {
            addr: asked,
            source,
        };
        let listener = TcpListener::bind(asked).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        // Installed once the address is ours: a failed start leaves no recorder behind.
        let prometheus = match self.prometheus {
            Prometheus::None => None,
            Prometheus::Install => Some(PrometheusBuilder::new().install_recorder()?),
            Prometheus::Handle(handle) => Some(handle),
        };
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            root: self.root,
            token: token.clone(),
            prometheus,
            interval: self.interval,
            any_host: self.non_loopback,
            live: watch::Sender::new(None),
            stopping: stopping.clone(),
        });
        tokio::spawn(live::publish(shared.clone()));
        let server = tokio::spawn(serve(listener, shared, stopping));
        tracing::info!(url = %format!("http://{addr}/"), actions = token.is_some(), "observer listening");
        Ok(Observer {
            addr,
            token,
            stop,
            server: Some(server),
        })
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopping: watch::Receiver<bool>) {
    let stopped = async move {
        let _ = stopping.wait_for(|stopping| *stopping).await;
    };
    if let Err(error) = axum::serve(listener, routes::router(shared))
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(%error, "the observer stopped serving");
    }
}
