//! ConsumerSupervisor's crash and restart reports. Alone in its test binary: the log
//! recorder is per thread, and tests on other threads racing to register the same log
//! callsites could hide events from it.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arbor_actor::{Context, Exit, GenServer, HandleContinue, Init, Outcome};
use arbor_stage::{Cancel, ConsumerSupervisor, Stage, SubscribeOptions};
use arbor_supervisor::{ChildSpec, Restart};
use support::Counter;
use tokio::sync::mpsc;

/// Crashes after its first start; later starts report their event and stop normally.
#[derive(Clone)]
struct CrashOnce {
    starts: Arc<AtomicUsize>,
    done: mpsc::UnboundedSender<u64>,
}

struct Go;

impl GenServer for CrashOnce {
    type Args = u64;
    type State = u64;
    async fn init(&self, event: u64, ctx: &mut Context<Self>) -> Init<u64> {
        ctx.continue_with(Go);
        Init::Ready(event)
    }
}

impl HandleContinue<Go> for CrashOnce {
    async fn handle_continue(&self, _: Go, event: &mut u64, _: &mut Context<Self>) -> Outcome {
        if self.starts.fetch_add(1, Ordering::SeqCst) == 0 {
            return Outcome::Stop(Exit::error("crashed on purpose"));
        }
        let _ = self.done.send(*event);
        Outcome::Stop(Exit::Normal)
    }
}

#[test]
fn a_crash_and_its_restart_are_logged_with_the_childs_id() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let ((), logs) = support::capture_logs(|| {
        runtime.block_on(async {
            let producer = Stage::producer(Counter { limit: Some(1) }, 0)
                .start()
                .await
                .unwrap();
            let (done, mut done_rx) = mpsc::unbounded_channel();
            let child = CrashOnce {
                starts: Arc::new(AtomicUsize::new(0)),
                done,
            };
            let supervisor = ConsumerSupervisor::children(move |event| {
                ChildSpec::worker("crash_once", child.clone(), event)
            })
            .restart(Restart::Transient)
            .unwrap();
            let options = SubscribeOptions::new()
                .max_demand(1)
                .cancel(Cancel::Transient);
            Stage::consumer(supervisor, ())
                .subscribe_to(&producer, options)
                .start()
                .await
                .unwrap();
            let event = tokio::time::timeout(support::STALL, done_rx.recv()).await;
            assert_eq!(event.unwrap(), Some(0));
        })
    });
    let restarted: Vec<_> = logs
        .iter()
        .filter(|log| log.text.starts_with("child restarted"))
        .collect();
    assert_eq!(restarted.len(), 1, "{logs:#?}");
    assert!(
        restarted[0].text.contains("child=crash_once"),
        "{restarted:?}"
    );
    let crashed: Vec<_> = support::at_level(&logs, tracing::Level::ERROR)
        .into_iter()
        .filter(|log| log.text.starts_with("child terminated"))
        .collect();
    assert_eq!(crashed.len(), 1, "{logs:#?}");
    assert!(crashed[0].text.contains("child=crash_once"), "{crashed:?}");
}
