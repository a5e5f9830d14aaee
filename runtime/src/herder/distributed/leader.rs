//! What the leader does on each tick: decide who is live, and publish a
//! new assignment when the live workers, the drains or the work changed.

use std::collections::BTreeSet;

use super::assignment::{Assignment, Demand, WorkerId, assign};
use super::herder::DistributedHerder;
use crate::status::TargetState;
use crate::storage::{ConfigBackingStore, StatusBackingStore};

impl DistributedHerder {
    /// Workers heard from within `scheduled.rebalance.max.delay.ms` (and
    /// this one): a worker that restarts within the delay keeps its work,
    /// so a flapping worker causes no storm of reassignments.
    pub(super) fn live_workers(&self) -> BTreeSet<WorkerId> {
        let now = now_ms();
        let delay = self.settings.rebalance_delay.as_millis() as i64;
        let mut live: BTreeSet<WorkerId> = self
            .statuses
            .heartbeats()
            .into_iter()
            .filter(|(_, beat)| now - beat.at_ms <= delay)
            .map(|(id, _)| id)
            .collect();
        live.insert(self.worker_id().to_string());
        live
    }

    /// What should run: every connector's instance, and the tasks of those
    /// not stopped.
    pub(super) fn demand(&self) -> Demand {
        self.configs
            .snapshot()
            .into_iter()
            .map(|(name, state)| {
                let tasks = if state.target_state == TargetState::Stopped {
                    0
                } else {
                    state.tasks.len() as u32
                };
                (name, tasks)
            })
            .collect()
    }

    /// Compute and publish the next assignment now, whatever changed.
    pub(super) async fn publish_now(&self) -> Result<Assignment, crate::storage::StorageError> {
        let current = self.configs.assignment().unwrap_or_default();
        let next = assign(
            &current,
            &self.live_workers(),
            &self.configs.drained(),
            &self.demand(),
        );
        self.configs.put_assignment(&next).await?;
        Ok(next)
    }

    /// Publish the next assignment if it differs from the current one.
    pub(super) async fn lead(&self) {
        let current = self.configs.assignment().unwrap_or_default();
        let next = assign(
            &current,
            &self.live_workers(),
            &self.configs.drained(),
            &self.demand(),
        );
        if next.workers != current.workers || current.epoch == 0 {
            tracing::info!(epoch = next.epoch, "publishing a new assignment");
            if let Err(e) = self.configs.put_assignment(&next).await {
                tracing::warn!("cannot publish the assignment: {e}");
                return;
            }
        }
        self.forget_statuses_of_removed_tasks(&next);
    }

    /// A task that no longer exists (connector deleted, stopped or given
    /// fewer tasks) has no status any more.
    fn forget_statuses_of_removed_tasks(&self, assignment: &Assignment) {
        let demand = self.demand();
        for (connector, tasks) in &demand {
            for (task, _) in self.statuses.tasks(connector) {
                if task >= *tasks
                    && assignment
                        .owner(&super::assignment::Work::Task(connector.clone(), task))
                        .is_none()
                {
                    self.core.listener.task_removed(connector, task);
                }
            }
        }
    }
}

pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
