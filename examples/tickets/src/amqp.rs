//! The RabbitMQ side: `--publish N` fills `bookings_queue` with sample bookings.

use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

use crate::booking;

/// The queue the app consumes, as in the book.
pub const QUEUE: &str = "bookings_queue";

/// Publishes the first `count` sample bookings to `queue`.
///
/// # Errors
///
/// The broker's error when it cannot be reached or refuses.
pub async fn publish(url: &str, queue: &str, count: u64) -> Result<(), lapin::Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), durable, FieldTable::default())
        .await?;
    for n in 0..count {
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &booking::sample(n),
                BasicProperties::default(),
            )
            .await?
            .await?;
    }
    connection.close(200, "published".into()).await
}

/// Deletes `queue`; returns how many messages it still held.
///
/// # Errors
///
/// The broker's error.
pub async fn delete_queue(url: &str, queue: &str) -> Result<u32, lapin::Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let left = channel
        .queue_delete(queue.into(), lapin::options::QueueDeleteOptions::default())
        .await?;
    connection.close(200, "deleted".into()).await?;
    Ok(left)
}
