//! Telemetry of one server: its callbacks run in a `server` span named after it, and its
//! statistics count what it handled.

use std::sync::{Arc, Mutex};

use arbor_actor::{Context, Exit, GenServer, HandleCast, Init, Outcome, Server, StartOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Records, for each log line this test writes, the spans it was written in.
#[derive(Clone, Default)]
struct Spans {
    events: Arc<Mutex<Vec<Scope>>>,
}

/// The spans around one log line, innermost first: (span name, its `name` field).
type Scope = Vec<(String, String)>;

/// The `name` field of a span, as written.
#[derive(Default)]
struct NameField(String);

impl Visit for NameField {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "name" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut name = NameField::default();
        attrs.record(&mut name);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(name.0);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: LayerContext<'_, S>) {
        // Only this test's own lines: ractor logs too.
        if event.metadata().target() != module_path!() {
            return;
        }
        let spans = ctx
            .event_scope(event)
            .into_iter()
            .flatten()
            .map(|span| {
                let field = span
                    .extensions()
                    .get::<String>()
                    .cloned()
                    .unwrap_or_default();
                (span.name().to_owned(), field)
            })
            .collect();
        self.events.lock().unwrap().push(spans);
    }
}

struct Logger;

impl GenServer for Logger {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

struct Log;

impl HandleCast<Log> for Logger {
    async fn handle_cast(&self, _: Log, _: &mut (), _: &mut Context<Self>) -> Outcome {
        tracing::info!("handled");
        Outcome::NoReply
    }
}

#[tokio::test]
async fn a_handlers_log_lines_are_written_inside_its_servers_span() {
    let spans = Spans::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    // Started inside another span: the server's span does not nest in it.
    let outer = tracing::info_span!("caller", name = "outer");
    let server = tracing::Instrument::instrument(
        Server::start_with(Logger, (), StartOptions::new().name("logger")),
        outer,
    )
    .await
    .unwrap();
    server.cast(Log).unwrap();
    server.stop(Exit::Normal).unwrap();
    server.wait().await;

    let events = spans.events.lock().unwrap().clone();
    assert_eq!(events, [vec![("server".to_owned(), "logger".to_owned())]]);
    // The cast and the stop request.
    assert_eq!(server.stats().messages(), 2);
    assert_eq!(server.stats().label(), "logger");
    assert!(server.stats().stage().is_none());
}
