//! Connector and task states as Connect reports them.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// What an instance is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    pub state: State,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// A status shared between the instance that updates it and the REST API.
#[derive(Debug, Clone)]
pub struct StatusCell(Arc<Mutex<InstanceStatus>>);

impl StatusCell {
    pub fn new(state: State, worker_id: &str) -> Self {
        Self(Arc::new(Mutex::new(InstanceStatus {
            state,
            worker_id: worker_id.to_string(),
            trace: None,
        })))
    }
    pub fn set(&self, state: State) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.state = state;
        s.trace = None;
    }
    pub fn fail(&self, trace: impl Into<String>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.state = State::Failed;
        s.trace = Some(trace.into());
    }
    pub fn get(&self) -> InstanceStatus {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
