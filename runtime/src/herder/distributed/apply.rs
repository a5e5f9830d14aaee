//! Carrying out the assignment on this worker: start what it gained, stop
//! what it lost, follow config and target-state changes, and act on
//! restart requests. Only what changed is touched.

use std::collections::{BTreeMap, BTreeSet};

use connect_api::ConfigMap;

use super::assignment::Work;
use super::herder::{DistributedHerder, Running, RunningConnector, RunningTaskEntry};
use crate::herder::core::{running_state, task_target};
use crate::status::{State, TargetState};
use crate::storage::{ConfigBackingStore, ConnectorState};

impl DistributedHerder {
    /// Bring this worker's instances in line with the newest assignment.
    pub(super) async fn apply(&self, running: &mut Running) {
        let Some(assignment) = self.configs.assignment() else {
            return;
        };
        if assignment.epoch < running.epoch {
            return; // never act on an older assignment than one acted on
        }
        running.epoch = assignment.epoch;
        let mine = assignment.of(self.worker_id());
        let snapshot = self.configs.snapshot();
        let restarts = self.configs.restarts();

        // Connectors.
        let wanted: BTreeSet<String> = mine
            .iter()
            .filter_map(|w| match w {
                Work::Connector(c) => Some(c.clone()),
                Work::Task(..) => None,
            })
            .collect();
        let gone: Vec<String> = running
            .connectors
            .keys()
            .filter(|c| !wanted.contains(*c) || !snapshot.contains_key(*c))
            .cloned()
            .collect();
        for name in gone {
            if let Some(mut old) = running.connectors.remove(&name)
                && let Some(instance) = old.instance.as_mut()
            {
                instance.stop().await;
            }
        }
        for name in &wanted {
            let Some(state) = snapshot.get(name) else {
                continue;
            };
            let restart = restarts.get(name).filter(|r| {
                r.connector
                    && running
                        .restarts_seen
                        .get(name)
                        .is_none_or(|seen| r.seq > *seen)
            });
            self.apply_connector(running, name, state, restart.is_some())
                .await;
        }

        // Tasks.
        let wanted_tasks: BTreeMap<(String, u32), ConfigMap> = mine
            .iter()
            .filter_map(|w| match w {
                Work::Task(c, n) => {
                    let config = snapshot.get(c)?.tasks.get(*n as usize)?.clone();
                    Some(((c.clone(), *n), config))
                }
                Work::Connector(_) => None,
            })
            .collect();
        let restart_tasks: BTreeSet<(String, u32)> = restarts
            .iter()
            .filter(|(c, r)| {
                running
                    .restarts_seen
                    .get(*c)
                    .is_none_or(|seen| r.seq > *seen)
            })
            .flat_map(|(c, r)| r.tasks.iter().map(move |n| (c.clone(), *n)))
            .collect();
        let stale: Vec<(String, u32)> = running
            .tasks
            .iter()
            .filter(|(id, entry)| {
                wanted_tasks.get(*id) != Some(&entry.config) || restart_tasks.contains(*id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        let stopping: Vec<_> = stale
            .iter()
            .filter_map(|id| running.tasks.remove(id).map(|e| e.task))
            .collect();
        self.core.worker.stop_tasks(stopping).await;
        for ((connector, n), config) in wanted_tasks {
            let target = snapshot
                .get(&connector)
                .map_or(TargetState::Started, |s| s.target_state);
            match running.tasks.get_mut(&(connector.clone(), n)) {
                Some(entry) => {
                    if entry.target != target {
                        entry.task.set_target(task_target(target));
                        entry.target = target;
                    }
                }
                None => {
                    let topics = running
                        .active_topics
                        .entry(connector.clone())
                        .or_default()
                        .clone();
                    let task = self.core.worker.start_task(
                        &connector,
                        n,
                        config.clone(),
                        task_target(target),
                        self.core.listener.task(&connector, n),
                        topics,
                    );
                    running.tasks.insert(
                        (connector, n),
                        RunningTaskEntry {
                            task,
                            config,
                            target,
                        },
                    );
                }
            }
        }
        for (name, r) in restarts {
            running.restarts_seen.insert(name, r.seq);
        }
    }

    /// Start, restart or follow one connector instance this worker owns.
    async fn apply_connector(
        &self,
        running: &mut Running,
        name: &str,
        state: &ConnectorState,
        restart: bool,
    ) {
        let current = running.connectors.get(name);
        let changed =
            current.is_none_or(|c| c.config != state.config || c.target != state.target_state);
        if !changed && !restart {
            return;
        }
        let reporter = self.core.listener.connector(name);
        if state.target_state == TargetState::Stopped {
            if let Some(mut old) = running.connectors.remove(name)
                && let Some(instance) = old.instance.as_mut()
            {
                instance.stop().await;
            }
            if !state.tasks.is_empty()
                && let Err(e) = self.configs.put_task_configs(name, Vec::new()).await
            {
                tracing::warn!(connector = name, "cannot clear the task configs: {e}");
            }
            reporter.set(State::Stopped);
            running
                .connectors
                .insert(name.to_string(), RunningConnector::idle(state));
            return;
        }
        let same_config = current.is_some_and(|c| c.config == state.config && c.instance.is_some());
        if same_config && !restart {
            // Only the target state changed: tasks follow it on their own.
            reporter.set(running_state(state.target_state));
            if let Some(c) = running.connectors.get_mut(name) {
                c.target = state.target_state;
            }
            return;
        }
        if let Some(mut old) = running.connectors.remove(name)
            && let Some(instance) = old.instance.as_mut()
        {
            instance.stop().await;
        }
        match self.core.worker.start_connector(name, &state.config).await {
            Ok(started) => {
                if started.task_configs != state.tasks
                    && let Err(e) = self
                        .configs
                        .put_task_configs(name, started.task_configs.clone())
                        .await
                {
                    tracing::warn!(connector = name, "cannot store the task configs: {e}");
                }
                reporter.set(running_state(state.target_state));
                running.connectors.insert(
                    name.to_string(),
                    RunningConnector {
                        instance: Some(started.instance),
                        config: state.config.clone(),
                        target: state.target_state,
                    },
                );
            }
            Err(e) => {
                tracing::error!(connector = name, "connector failed to start: {e}");
                reporter.fail(e.to_string());
                running
                    .connectors
                    .insert(name.to_string(), RunningConnector::idle(state));
            }
        }
    }
}
