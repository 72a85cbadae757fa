//! The RabbitMQ producer's options (BroadwayRabbitMQ's).

use std::time::Duration;

use crate::acknowledger::AckAction;

/// How long to wait before the next connection attempt, after `failures` failed ones:
/// `min * 2^(failures - 1)`, at most `max`. The first attempt after a connection drops
/// is immediate.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_broadway::rabbitmq::Backoff;
///
/// let backoff = Backoff { min: Duration::from_millis(100), max: Duration::from_secs(1) };
/// assert_eq!(backoff.delay(1), Duration::from_millis(100));
/// assert_eq!(backoff.delay(3), Duration::from_millis(400));
/// assert_eq!(backoff.delay(10), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay. Default: 100 ms.
    pub min: Duration,
    /// The longest delay. Default: 10 s.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The delay after `failures` failed attempts in a row (0: none).
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }
}

/// Options of the RabbitMQ producer.
///
/// # Examples
///
/// ```
/// use arbor_broadway::AckAction;
/// use arbor_broadway::rabbitmq::RabbitMqOptions;
///
/// let options = RabbitMqOptions::new("amqp://127.0.0.1:5672/%2f", "bookings_queue")
///     .prefetch_count(100)
///     .on_failure(AckAction::Reject);
/// assert_eq!(options.on_success, AckAction::Ack);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RabbitMqOptions {
    /// The broker's URL (`amqp://user:pass@host:port/vhost`).
    pub url: String,
    /// The queue to consume.
    pub queue: String,
    /// Declare the queue (durable) before consuming, if it does not exist. Default: true.
    pub declare: bool,
    /// Most unacknowledged deliveries the broker sends each producer. Default: 50.
    pub prefetch_count: u16,
    /// What successful messages get. Default: [`AckAction::Ack`].
    pub on_success: AckAction,
    /// What failed messages get. Default: [`AckAction::RejectAndRequeue`].
    pub on_failure: AckAction,
    /// Delays between failed connection attempts.
    pub backoff: Backoff,
    /// The connection's name, as the broker shows it. Default: `arbor-broadway`.
    pub connection_name: String,
    /// `(exchange, routing_key)` pairs the queue is bound to before consuming (the
    /// exchanges must exist). Default: none.
    pub bindings: Vec<(String, String)>,
}

impl RabbitMqOptions {
    /// Consume `queue` at `url`, with the defaults.
    pub fn new(url: impl Into<String>, queue: impl Into<String>) -> Self {
        RabbitMqOptions {
            url: url.into(),
            queue: queue.into(),
            declare: true,
            prefetch_count: 50,
            on_success: AckAction::Ack,
            on_failure: AckAction::RejectAndRequeue,
            backoff: Backoff::default(),
            connection_name: "arbor-broadway".into(),
            bindings: Vec::new(),
        }
    }

    /// Binds the queue to `exchange` with `routing_key` before consuming.
    pub fn binding(mut self, exchange: impl Into<String>, routing_key: impl Into<String>) -> Self {
        self.bindings.push((exchange.into(), routing_key.into()));
        self
    }

    /// Sets whether the queue is declared.
    pub fn declare(mut self, declare: bool) -> Self {
        self.declare = declare;
        self
    }

    /// Sets the prefetch count (QoS).
    pub fn prefetch_count(mut self, prefetch_count: u16) -> Self {
        self.prefetch_count = prefetch_count;
        self
    }

    /// Sets what successful messages get.
    pub fn on_success(mut self, action: AckAction) -> Self {
        self.on_success = action;
        self
    }

    /// Sets what failed messages get.
    pub fn on_failure(mut self, action: AckAction) -> Self {
        self.on_failure = action;
        self
    }

    /// Sets the reconnect backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the connection's name.
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }
}
