//! Tasks linked to the server that spawned them: a crash takes the server down, the
//! server's exit takes its tasks; `spawn_nolink` keeps the crash a result.

mod support;

use std::time::Duration;

use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome, Pid,
    Server,
};
use arbor_supervisor::DynamicSupervisorOptions;
use arbor_task::{Task, TaskError, TaskSupervisor};
use support::{sleep_ms, Token, Watch};

/// A server that starts tasks on request; it holds them in its state, as an owner does.
struct Owner {
    tasks: Option<TaskSupervisor>,
}

impl GenServer for Owner {
    type Args = ();
    type State = Vec<Task<()>>;
    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<Vec<Task<()>>> {
        Init::Ready(Vec::new())
    }
}

/// Start a task that crashes after `after_ms`.
struct Crash {
    after_ms: u64,
    supervised: bool,
}

/// Start a task that runs until killed, holding the token.
struct Park(Token);

/// Start a supervised unlinked task that crashes, await it, and answer with its result.
struct CrashNoLink;

impl HandleCast<Crash> for Owner {
    async fn handle_cast(
        &self,
        Crash {
            after_ms,
            supervised,
        }: Crash,
        tasks: &mut Vec<Task<()>>,
        _ctx: &mut Context<Self>,
    ) -> Outcome {
        let work = async move {
            sleep_ms(after_ms).await;
            panic!("task crashed");
        };
        let task = match (supervised, &self.tasks) {
            (true, Some(supervisor)) => match supervisor.spawn(work).await {
                Ok(task) => task,
                Err(error) => return Outcome::Stop(Exit::error(error)),
            },
            _ => Task::spawn(work),
        };
        tasks.push(task);
        Outcome::NoReply
    }
}

impl HandleCast<Park> for Owner {
    async fn handle_cast(
        &self,
        Park(token): Park,
        tasks: &mut Vec<Task<()>>,
        _ctx: &mut Context<Self>,
    ) -> Outcome {
        tasks.push(Task::spawn(async move {
            let _token = token;
            std::future::pending::<()>().await;
        }));
        Outcome::NoReply
    }
}

impl HandleCall<CrashNoLink> for Owner {
    type Reply = Result<(), TaskError>;
    async fn handle_call(
        &self,
        _: CrashNoLink,
        _: Caller<'_, Result<(), TaskError>>,
        _: &mut Vec<Task<()>>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Result<(), TaskError>> {
        let Some(supervisor) = &self.tasks else {
            return CallOutcome::Reply(Err(TaskError::NoRuntime));
        };
        let result = match supervisor
            .spawn_nolink(async { panic!("unlinked crash") })
            .await
        {
            Ok(task) => task.await,
            Err(error) => Err(error),
        };
        CallOutcome::Reply(result)
    }
}

struct WhoAmI;
impl HandleCall<WhoAmI> for Owner {
    type Reply = Option<Pid>;
    async fn handle_call(
        &self,
        _: WhoAmI,
        _: Caller<'_, Option<Pid>>,
        _: &mut Vec<Task<()>>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Option<Pid>> {
        // Inside a task spawned here, no server's callback is running.
        let inside_task = Task::spawn(async { Pid::current() }).await.ok().flatten();
        assert_eq!(inside_task, None);
        CallOutcome::Reply(Pid::current())
    }
}

#[tokio::test]
async fn pid_current_names_the_server_whose_callback_runs() {
    let owner = Server::start(Owner { tasks: None }, ()).await.unwrap();
    assert_eq!(owner.call(WhoAmI).await.unwrap(), Some(owner.pid()));
    assert_eq!(Pid::current(), None);
}

#[tokio::test]
async fn a_crashing_task_takes_its_server_down_with_its_reason() {
    let owner = Server::start(Owner { tasks: None }, ()).await.unwrap();
    owner
        .cast(Crash {
            after_ms: 1,
            supervised: false,
        })
        .unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), owner.wait())
            .await
            .unwrap(),
        Exit::Panic("task crashed".into())
    );
}

#[tokio::test]
async fn a_stopping_server_takes_its_tasks_with_it() {
    let owner = Server::start(Owner { tasks: None }, ()).await.unwrap();
    let watch = Watch::new();
    owner.cast(Park(watch.token())).unwrap();
    owner.cast(Park(watch.token())).unwrap();
    owner
        .stop_and_wait(Exit::shutdown(), Duration::from_secs(5))
        .await
        .unwrap();
    watch.gone().await;
}

#[tokio::test]
async fn a_killed_server_takes_its_tasks_with_it() {
    let owner = Server::start(Owner { tasks: None }, ()).await.unwrap();
    let watch = Watch::new();
    owner.cast(Park(watch.token())).unwrap();
    // The cast is handled before the call's reply: the task exists.
    let _ = owner.call(WhoAmI).await.unwrap();
    owner.kill();
    watch.gone().await;
}

#[tokio::test]
async fn a_supervised_linked_task_takes_the_calling_server_down() {
    let supervisor = TaskSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .unwrap();
    let owner = Server::start(
        Owner {
            tasks: Some(supervisor.clone()),
        },
        (),
    )
    .await
    .unwrap();
    owner
        .cast(Crash {
            after_ms: 1,
            supervised: true,
        })
        .unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), owner.wait())
            .await
            .unwrap(),
        Exit::Panic("task crashed".into())
    );
    // The supervisor itself is not taken down by a temporary task's crash.
    assert!(supervisor.as_dynamic().is_alive());
}

#[tokio::test]
async fn a_supervised_unlinked_crash_is_only_a_result() {
    let supervisor = TaskSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .unwrap();
    let owner = Server::start(
        Owner {
            tasks: Some(supervisor),
        },
        (),
    )
    .await
    .unwrap();
    assert_eq!(
        owner.call(CrashNoLink).await.unwrap(),
        Err(TaskError::Exited(Exit::Panic("unlinked crash".into())))
    );
    assert!(owner.is_alive());
}

/// A server that traps its tasks' exits instead of dying of them.
struct Trapper(tokio::sync::mpsc::UnboundedSender<Exit>);

impl GenServer for Trapper {
    type Args = ();
    type State = Option<Task<()>>;
    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<Option<Task<()>>> {
        Init::Ready(Some(Task::spawn(async { panic!("trapped") })))
    }

    async fn handle_exit(
        &self,
        _actor: arbor_actor::ractor::ActorCell,
        reason: Exit,
        _: &mut Option<Task<()>>,
        _: &mut Context<Self>,
    ) -> Outcome {
        let _ = self.0.send(reason);
        Outcome::NoReply
    }
}

#[tokio::test]
async fn a_server_that_handles_exits_sees_its_task_crash_and_lives() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = Server::start(Trapper(tx), ()).await.unwrap();
    assert_eq!(rx.recv().await, Some(Exit::Panic("trapped".into())));
    assert!(server.is_alive());
}
