//! The two ends of a subscription, with the other stage's behaviour type erased: a
//! consumer knows its producer only by the events it emits, and the other way round.

use arbor_actor::{Pid, Server, StopHookId};

use crate::protocol::{Downward, StageMessage, Upward};
use crate::runtime::StageServer;
use crate::GenStage;

/// A producer, as its consumers see it.
pub(crate) trait UpstreamLink<E>: Send + Sync + 'static {
    /// Sends to the producer; `false` when it is not running.
    fn send(&self, message: Upward<E>) -> bool;
    fn pid(&self) -> Pid;
}

/// A consumer, as its producer sees it.
pub(crate) trait DownstreamLink<E>: Send + Sync + 'static {
    /// Sends to the consumer; the message comes back when it is not running.
    fn send(&self, message: Downward<E>) -> Result<(), Downward<E>>;
    fn pid(&self) -> Pid;
}

impl<S: GenStage> UpstreamLink<S::Out> for Server<StageServer<S>> {
    fn send(&self, message: Upward<S::Out>) -> bool {
        self.send_protocol(StageMessage::Upward(message)).is_ok()
    }

    fn pid(&self) -> Pid {
        Server::pid(self)
    }
}

impl<S: GenStage> DownstreamLink<S::In> for Server<StageServer<S>> {
    fn send(&self, message: Downward<S::In>) -> Result<(), Downward<S::In>> {
        match self.send_protocol(StageMessage::Downward(message)) {
            Ok(()) => Ok(()),
            Err(refused) => match refused.into_inner() {
                StageMessage::Downward(message) => Err(message),
                // What comes back is what was sent: a downward message.
                StageMessage::Upward(_) => Ok(()),
            },
        }
    }

    fn pid(&self) -> Pid {
        Server::pid(self)
    }
}

/// The other end of a subscription as this stage watches it: its pid, taken once, and the
/// stop hook this stage put on it.
pub(crate) struct Watch {
    pub(crate) pid: Pid,
    hook: StopHookId,
}

impl Watch {
    pub(crate) fn new(pid: Pid, hook: StopHookId) -> Self {
        Watch { pid, hook }
    }

    /// Takes the hook back: the subscription ended while the other end lives on, so
    /// its stop no longer concerns this stage.
    pub(crate) fn forget(&self) {
        self.pid.cancel_on_stop(self.hook);
    }
}
