//! `Pid`: untyped references, their liveness, and stop hooks that run before any caller
//! can see the stop.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arbor_actor::{CallError, Exit, OnStop, Pid};
use support::{probe, CallStop, Crash, Ping, Probe};

fn flag() -> (Arc<AtomicBool>, impl FnOnce(&Exit) + Send + 'static) {
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    (flag, move |_: &Exit| set.store(true, Ordering::SeqCst))
}

#[tokio::test]
async fn a_stop_hook_hears_the_exit_reason() {
    for (kill, expected) in [(false, Exit::error("done")), (true, Exit::Killed)] {
        let (server, _events) = probe().await;
        let (tx, rx) = std::sync::mpsc::channel();
        server
            .pid()
            .on_stop(move |exit| tx.send(exit.clone()).unwrap());
        if kill {
            server.kill();
        } else {
            let _ = server
                .call(CallStop {
                    exit: Exit::error("done"),
                    reply: None,
                })
                .await;
        }
        server.wait().await;
        assert_eq!(rx.recv().unwrap(), expected);
    }
}

#[tokio::test]
async fn a_stop_hook_has_run_when_a_caller_sees_the_exit() {
    let (server, _events) = probe().await;
    let pid = server.pid();
    let (ran, hook) = flag();
    assert!(matches!(pid.on_stop(hook), OnStop::Registered(_)));

    let stopped = server
        .call(CallStop {
            exit: Exit::error("done"),
            reply: None,
        })
        .await;
    assert_eq!(stopped, Err(CallError::Exited(Exit::error("done"))));
    assert!(ran.load(Ordering::SeqCst));
    assert!(pid.is_stopping());
}

#[tokio::test]
async fn stop_hooks_run_on_panic_and_on_kill() {
    for kill in [false, true] {
        let (server, _events) = probe().await;
        let (ran, hook) = flag();
        server.pid().on_stop(hook);
        if kill {
            server.kill();
        } else {
            server.cast(Crash("boom")).unwrap();
        }
        server.wait().await;
        assert!(ran.load(Ordering::SeqCst), "kill: {kill}");
    }
}

#[tokio::test]
async fn a_hook_offered_too_late_is_refused() {
    let (server, _events) = probe().await;
    server.kill();
    server.wait().await;
    let (ran, hook) = flag();
    assert_eq!(server.pid().on_stop(hook), OnStop::AlreadyStopping);
    assert!(!ran.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_pid_gives_back_the_typed_handle_of_its_behaviour_only() {
    struct Other;
    impl arbor_actor::GenServer for Other {
        type Args = ();
        type State = ();
        async fn init(&self, _: (), _: &mut arbor_actor::Context<Self>) -> arbor_actor::Init<()> {
            arbor_actor::Init::Ready(())
        }
    }
    let (server, _events) = probe().await;
    let pid = server.pid();
    assert_eq!(pid, Pid::from(&server));
    let typed = pid.server::<Probe>().unwrap();
    assert_eq!(typed.call(Ping).await, Ok("pong"));
    assert!(pid.server::<Other>().is_none());

    // A pid made from the bare cell knows no behaviour and offers no hook.
    let bare = Pid::from(server.cell());
    assert_eq!(bare, pid);
    assert!(bare.server::<Probe>().is_none());
    assert_eq!(bare.on_stop(|_| ()), OnStop::Unsupported);
}

#[tokio::test]
async fn an_exit_signal_runs_handle_exit_in_mailbox_order() {
    let (server, mut events) = probe().await;
    let (other, _other_events) = probe().await;
    let pid = server.pid();
    pid.exit_signal(other.cell(), Exit::Normal).unwrap();
    support::flush(&server).await;
    assert!(support::drain(&mut events).contains(&support::Event::Exit("normal".into())));
    assert!(server.is_alive());

    pid.exit_signal(other.cell(), Exit::Panic("linked crash".into()))
        .unwrap();
    assert_eq!(
        server.wait().await,
        Exit::error("linked actor exited: panic: linked crash")
    );
    // A stopped server takes no signal.
    assert_eq!(
        pid.exit_signal(other.cell(), Exit::Normal),
        Err(arbor_actor::StopError::NoProc)
    );
}

#[tokio::test]
async fn a_plain_actor_pid_takes_no_exit_signal() {
    let (server, _events) = probe().await;
    let plain = Pid::from(server.cell());
    assert_eq!(
        plain.exit_signal(server.cell(), Exit::Normal),
        Err(arbor_actor::StopError::NoProc)
    );
}

#[tokio::test]
async fn pid_current_is_none_outside_callbacks() {
    assert_eq!(Pid::current(), None);
}
