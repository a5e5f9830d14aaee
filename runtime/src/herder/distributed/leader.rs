//! What the leader does on each tick: decide who is live, and publish a
//! new assignment when the live workers, the drains or the work changed.

use std::collections::BTreeSet;

use super::assignment::{Assignment, Demand, WorkerId, assign, revocation};
use super::herder::DistributedHerder;
use crate::status::TargetState;
use crate::storage::{ConfigBackingStore, StatusBackingStore};

/// How long revoked work stays unassigned before its new worker gets it:
/// enough for the old task to leave its consumer group and the group to
/// settle, so the new task does not join mid-rebalance.
const REVOKE_FOR: std::time::Duration = std::time::Duration::from_secs(4);

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

    /// The current assignment and the one that should follow it.
    fn next_assignment(&self, demand: &Demand) -> (Assignment, Assignment) {
        let current = self.configs.assignment().unwrap_or_default();
        let next = assign(
            &current,
            &self.live_workers(),
            &self.configs.drained(),
            demand,
        );
        (current, next)
    }

    /// Compute and publish the next assignment now, whatever changed, and
    /// answer with where work will run.
    pub(super) async fn publish_now(&self) -> Result<Assignment, crate::storage::StorageError> {
        let (current, next) = self.next_assignment(&self.demand());
        self.publish(&current, next).await
    }

    /// Publish `next`; work it moves between live workers is revoked first
    /// and given to its new worker after [`REVOKE_FOR`].
    async fn publish(
        &self,
        current: &Assignment,
        next: Assignment,
    ) -> Result<Assignment, crate::storage::StorageError> {
        match revocation(current, &next, &self.live_workers()) {
            Some(revoked) => {
                tracing::info!(epoch = revoked.epoch, "revoking work that moves");
                self.configs.put_assignment(&revoked).await?;
                let mut then = next.clone();
                then.epoch = revoked.epoch + 1;
                *self.pending() = Some((then.clone(), tokio::time::Instant::now()));
                Ok(then)
            }
            None => {
                tracing::info!(epoch = next.epoch, "publishing a new assignment");
                self.configs.put_assignment(&next).await?;
                *self.pending() = None;
                Ok(next)
            }
        }
    }

    /// Publish the next assignment if it differs from the current one.
    pub(super) async fn lead(&self) {
        let pending = self.pending().clone();
        if let Some((then, since)) = pending {
            if since.elapsed() < REVOKE_FOR {
                return;
            }
            *self.pending() = None;
            tracing::info!(epoch = then.epoch, "assigning the revoked work");
            if let Err(e) = self.configs.put_assignment(&then).await {
                tracing::warn!("cannot publish the assignment: {e}");
            }
            return;
        }
        let demand = self.demand();
        let (current, next) = self.next_assignment(&demand);
        if (next.workers != current.workers || current.epoch == 0)
            && let Err(e) = self.publish(&current, next).await
        {
            tracing::warn!("cannot publish the assignment: {e}");
            return;
        }
        self.forget_statuses_of_removed_tasks(&demand);
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Option<(Assignment, tokio::time::Instant)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A task that no longer exists (connector deleted, stopped or given
    /// fewer tasks) has no status any more.
    fn forget_statuses_of_removed_tasks(&self, demand: &Demand) {
        for (connector, tasks) in demand {
            for (task, _) in self.statuses.tasks(connector) {
                if task >= *tasks {
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
