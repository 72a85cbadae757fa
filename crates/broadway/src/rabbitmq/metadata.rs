//! A delivery's routing facts and headers, as message metadata.

use lapin::message::Delivery;
use lapin::types::{AMQPValue, FieldTable};

use crate::message::{MetaValue, Metadata};

/// The metadata of `delivery`: `delivery_tag`, `redelivered`, `exchange`,
/// `routing_key`, and `headers` when it has any.
pub(super) fn of(delivery: &Delivery) -> Metadata {
    let mut metadata = Metadata::new();
    let tag = i64::try_from(delivery.delivery_tag).unwrap_or(i64::MAX);
    metadata.insert("delivery_tag".into(), MetaValue::Int(tag));
    metadata.insert("redelivered".into(), MetaValue::Bool(delivery.redelivered));
    metadata.insert(
        "exchange".into(),
        MetaValue::Str(delivery.exchange.to_string()),
    );
    metadata.insert(
        "routing_key".into(),
        MetaValue::Str(delivery.routing_key.to_string()),
    );
    if let Some(headers) = delivery.properties.headers() {
        metadata.insert("headers".into(), MetaValue::Table(table(headers)));
    }
    metadata
}

fn table(fields: &FieldTable) -> Metadata {
    fields
        .inner()
        .iter()
        .map(|(key, value)| (key.to_string().into(), value_of(value)))
        .collect()
}

fn value_of(value: &AMQPValue) -> MetaValue {
    match value {
        AMQPValue::Boolean(flag) => MetaValue::Bool(*flag),
        AMQPValue::ShortShortInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::ShortShortUInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::ShortInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::ShortUInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::LongInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::LongUInt(n) => MetaValue::Int(i64::from(*n)),
        AMQPValue::LongLongInt(n) => MetaValue::Int(*n),
        AMQPValue::ShortString(text) => MetaValue::Str(text.to_string()),
        AMQPValue::LongString(text) => match std::str::from_utf8(text.as_bytes()) {
            Ok(text) => MetaValue::Str(text.to_owned()),
            Err(_) => MetaValue::Bytes(text.as_bytes().to_vec()),
        },
        AMQPValue::FieldTable(fields) => MetaValue::Table(table(fields)),
        other => MetaValue::Str(format!("{other:?}")),
    }
}
