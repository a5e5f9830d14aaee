//! Connector and task states as Connect reports them, and the one way
//! they are reported: through a [`StatusListener`] into the status store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::storage::{StatusBackingStore, StatusKey};

/// What an instance is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    /// Connectors only: tasks released, config kept.
    Stopped,
    Failed,
    Restarting,
}

/// What the user asked a connector to be (persisted across restarts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

impl TargetState {
    /// `initial_state` of a create request: RUNNING, PAUSED or STOPPED.
    pub fn from_initial_state(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(Self::Started),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InstanceStatus {
    pub state: State,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// Orders every reporter this process makes: a newer instance's reports
/// win over an older one's (Connect's status generations).
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// Every state change of a connector or task on this worker goes through
/// here to the status store (Connect's `ConnectorStatus.Listener` and
/// `TaskStatus.Listener`).
#[derive(Clone)]
pub struct StatusListener {
    store: Arc<dyn StatusBackingStore>,
    worker_id: String,
}

impl StatusListener {
    pub fn new(store: Arc<dyn StatusBackingStore>, worker_id: &str) -> Self {
        Self {
            store,
            worker_id: worker_id.to_string(),
        }
    }

    /// A reporter for a connector instance about to start.
    pub fn connector(&self, name: &str) -> StatusReporter {
        self.reporter(StatusKey::Connector(name.to_string()))
    }

    /// A reporter for a task instance about to start.
    pub fn task(&self, connector: &str, task: u32) -> StatusReporter {
        self.reporter(StatusKey::Task(connector.to_string(), task))
    }

    fn reporter(&self, key: StatusKey) -> StatusReporter {
        StatusReporter {
            listener: self.clone(),
            key,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A task was stopped for good (connector stopped, deleted or given
    /// fewer tasks): it no longer has a status. Wins over any late report
    /// of the stopped instance.
    pub fn task_removed(&self, connector: &str, task: u32) {
        self.task(connector, task).put(None);
    }

    pub fn connector_deleted(&self, connector: &str) {
        self.store.remove_connector(connector);
    }
}

/// Reports one instance's states; cheap to clone into the instance.
#[derive(Clone)]
pub struct StatusReporter {
    listener: StatusListener,
    key: StatusKey,
    generation: u64,
}

impl StatusReporter {
    pub fn set(&self, state: State) {
        self.put(Some(self.status(state, None)));
    }

    pub fn fail(&self, trace: impl Into<String>) {
        self.put(Some(self.status(State::Failed, Some(trace.into()))));
    }

    fn status(&self, state: State, trace: Option<String>) -> InstanceStatus {
        InstanceStatus {
            state,
            worker_id: self.listener.worker_id.clone(),
            trace,
        }
    }

    fn put(&self, status: Option<InstanceStatus>) {
        self.listener.store.put(&self.key, status, self.generation);
    }

    /// The state last stored for this instance (by it or a successor).
    pub fn current(&self) -> Option<InstanceStatus> {
        self.listener.store.get(&self.key)
    }
}
