//! What every supervisor handle offers the same way: its snapshot, its stop and its
//! identity. One macro, so `Supervisor` and `DynamicSupervisor` keep one copy.

/// The methods every supervisor handle has, for a type with a `server` field and a
/// `which_children` method. `$stop` documents how its `stop` stops the children.
macro_rules! supervisor_handle_methods {
    ($stop:literal) => {
        /// A snapshot of the whole tree below this supervisor, nested supervisors (and
        /// ConsumerSupervisors) included, with each process's statistics and each
        /// stage's counters, read from the processes' records without messaging them.
        ///
        /// # Errors
        ///
        /// This supervisor is not running. (A nested one that stops meanwhile shows no
        /// children.)
        ///
        /// # Cancel safety
        ///
        /// Cancel safe.
        pub async fn tree(&self) -> Result<TreeNode, CallError> {
            let children = subtrees(self.which_children().await?).await;
            Ok(root_node(&self.server, children))
        }

        #[doc = $stop]
        ///
        /// # Cancel safety
        ///
        /// Dropping the future does not withdraw the stop.
        pub async fn stop(&self, reason: Exit) -> Exit {
            let _ = self.server.stop(reason);
            self.server.wait().await
        }

        /// Waits until the supervisor has stopped and returns why.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe.
        pub async fn wait(&self) -> Exit {
            self.server.wait().await
        }

        /// `true` while the supervisor runs, its `terminate` included, as
        /// [`Server::is_alive`](arbor_actor::Server::is_alive) (OTP's `Process.alive?/1`);
        /// [`Pid::is_stopping`](arbor_actor::Pid::is_stopping) turns `true` as soon as its
        /// stop is decided.
        pub fn is_alive(&self) -> bool {
            self.server.is_alive()
        }

        /// The supervisor's ractor cell (to link or monitor it).
        pub fn cell(&self) -> ActorCell {
            self.server.cell()
        }

        /// The supervisor's pid (to register it, or to send it an exit signal).
        pub fn pid(&self) -> arbor_actor::Pid {
            self.server.pid()
        }

        /// The supervisor's ractor id.
        pub fn id(&self) -> ActorId {
            self.server.id()
        }
    };
}

pub(crate) use supervisor_handle_methods;
