//! What can go wrong starting an [`Observer`](crate::Observer).

use std::net::SocketAddr;

/// Why an observer did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserverError {
    /// The address is not a loopback address and
    /// [`allow_non_loopback`](crate::ObserverBuilder::allow_non_loopback) was not asked
    /// for: the view (and with actions, the power to stop children) would be open to the
    /// network.
    #[error("{0} is not a loopback address; call allow_non_loopback() to serve it anyway")]
    NotLoopback(SocketAddr),
    /// The address could not be bound (in use, not permitted, …).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The Prometheus recorder could not be installed (another `metrics` recorder is
    /// installed already).
    #[error("cannot install the Prometheus recorder")]
    Recorder(#[from] metrics_exporter_prometheus::BuildError),
    /// The operating system's random source failed, so no actions token could be made.
    #[error("cannot make the actions token: {0}")]
    Token(getrandom::Error),
}
