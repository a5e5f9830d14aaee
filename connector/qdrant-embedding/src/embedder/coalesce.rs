//! Coalescing: requests from every task of the worker are gathered into one
//! window, so the model sees large, length-sorted batches instead of each
//! task's small put.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::EmbedError;

pub type Reply = tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>;

/// One caller's texts and where its vectors go.
pub struct Job {
    pub texts: Vec<String>,
    pub reply: Reply,
}

/// Jobs embedded together.
pub struct Window {
    pub jobs: Vec<Job>,
}

impl Window {
    pub fn texts(&self) -> usize {
        self.jobs.iter().map(|j| j.texts.len()).sum()
    }
}

/// Wait for a first job, then take what else arrives within `linger`,
/// up to `max_texts`; `None` once every sender is gone.
pub fn next_window(jobs: &Receiver<Job>, linger: Duration, max_texts: usize) -> Option<Window> {
    let first = jobs.recv().ok()?;
    let mut window = Window { jobs: vec![first] };
    let deadline = Instant::now() + linger;
    while window.texts() < max_texts {
        match jobs.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(job) => window.jobs.push(job),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(window)
}
