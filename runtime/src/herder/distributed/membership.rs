//! Finding the leader through Kafka's group coordinator: every worker is a
//! member of the cluster's `group.id` on a one-partition topic, and the
//! member holding partition 0 leads. Kafka decides; nothing here votes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

use crate::storage::{StorageError, TopicSpec, client, create_topic};
use crate::worker_config::WorkerConfig;

struct LeaderContext {
    leader: Arc<AtomicBool>,
    worker_id: String,
}

impl ClientContext for LeaderContext {}

impl ConsumerContext for LeaderContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance
            && self.leader.swap(false, Ordering::SeqCst)
        {
            tracing::info!(worker = self.worker_id, "no longer the cluster's leader");
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) if tpl.count() > 0 => {
                self.leader.store(true, Ordering::SeqCst);
                tracing::info!(worker = self.worker_id, "this worker leads the cluster");
            }
            Rebalance::Assign(_) => self.leader.store(false, Ordering::SeqCst),
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                self.leader.store(false, Ordering::SeqCst);
                tracing::warn!(worker = self.worker_id, "cluster membership error: {e}");
            }
        }
    }
}

/// This worker's membership in the cluster's group.
pub struct Membership {
    leader: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Membership {
    /// Join `group_id` on `topic` (created with one partition if absent).
    pub async fn join(
        worker: &WorkerConfig,
        group_id: &str,
        topic: &str,
        replication_factor: i32,
    ) -> Result<Self, StorageError> {
        create_topic(
            worker,
            &TopicSpec {
                name: topic.to_string(),
                partitions: 1,
                replication_factor,
            },
        )
        .await?;
        let leader = Arc::new(AtomicBool::new(false));
        let mut config = client(worker, "consumer.");
        config
            .set("group.id", group_id)
            .set("client.id", format!("connect-host-{}", worker.worker_id))
            .set("enable.auto.commit", "false")
            .set("partition.assignment.strategy", "range");
        let consumer: BaseConsumer<LeaderContext> = config
            .create_with_context(LeaderContext {
                leader: leader.clone(),
                worker_id: worker.worker_id.clone(),
            })
            .map_err(|e| StorageError::Backend(format!("cannot join the cluster: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| StorageError::Backend(format!("cannot join the cluster: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let leave_group = worker.leave_group_on_close;
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("membership".into())
                .spawn(move || {
                    // Polling keeps the membership; the topic carries no records.
                    while !stop.load(Ordering::SeqCst) {
                        if let Some(Err(e)) = consumer.poll(Duration::from_millis(200)) {
                            tracing::debug!("membership poll: {e}");
                        }
                    }
                    if leave_group {
                        consumer.unsubscribe();
                    }
                    crate::sink_task::close_consumer(consumer, leave_group);
                })
                .map_err(|e| StorageError::Backend(format!("cannot join the cluster: {e}")))?
        };
        Ok(Self {
            leader,
            stop,
            thread: Some(thread),
        })
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
