//! Tokenizing: a window's texts are tokenized on all cores, planned into
//! passes (see [`super::plan`]) and laid out as host tensors (pinned for a
//! GPU), while the forward stage is still busy with the previous window.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

use tch::{Device, Tensor};

use super::EmbedError;
use super::coalesce::{Job, Window, next_window};
use super::model::{Encoded, TextEncoder};
use super::plan::{PlannedBatch, Shape, fill, plan};

/// One forward pass, ready to copy to the device.
pub struct HostBatch {
    /// Indices into [`Prepared::slots`].
    pub rows: Vec<usize>,
    /// `[rows, len]` int64 each.
    pub ids: Tensor,
    pub types: Tensor,
    pub mask: Tensor,
}

/// A tokenized window.
pub struct Prepared {
    pub window: Window,
    /// (job, text) of every text that was tokenized.
    pub slots: Vec<(usize, usize)>,
    /// Jobs answered with an error instead of vectors.
    pub failed: HashMap<usize, EmbedError>,
    pub batches: Vec<HostBatch>,
    /// Time spent tokenizing and laying out, and real/padded tokens.
    pub tokenize_time: Duration,
    pub fill: f64,
}

/// How windows are formed and shaped.
#[derive(Debug, Clone, Copy)]
pub struct WindowOptions {
    pub linger: Duration,
    pub max_texts: usize,
    pub shape: Shape,
}

/// The tokenizing stage: until the job senders are gone, turn each window
/// into a [`Prepared`] one and hand it on (blocking while the forward stage
/// still has the windows it can hold).
pub fn run(
    encoder: TextEncoder,
    jobs: Receiver<Job>,
    out: SyncSender<Prepared>,
    options: WindowOptions,
    device: Device,
) {
    while let Some(window) = next_window(&jobs, options.linger, options.max_texts) {
        let prepared = prepare(&encoder, window, options.shape, device);
        if out.send(prepared).is_err() {
            return;
        }
    }
}

pub fn prepare(encoder: &TextEncoder, window: Window, shape: Shape, device: Device) -> Prepared {
    let started = Instant::now();
    let texts: Vec<&str> = window
        .jobs
        .iter()
        .flat_map(|j| j.texts.iter().map(String::as_str))
        .collect();
    let encoded = encoder.encode_all(&texts);
    let mut slots = Vec::with_capacity(texts.len());
    let mut tokens: Vec<Encoded> = Vec::with_capacity(texts.len());
    let mut failed = HashMap::new();
    let mut results = encoded.into_iter();
    for (j, job) in window.jobs.iter().enumerate() {
        for i in 0..job.texts.len() {
            match results.next() {
                Some(Ok(e)) => {
                    slots.push((j, i));
                    tokens.push(e);
                }
                Some(Err(e)) => {
                    failed.insert(j, EmbedError::Tokenizer(e));
                }
                None => {}
            }
        }
    }
    let lengths: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
    let planned = plan(&lengths, shape);
    let fill = fill(&lengths, &planned);
    let batches = planned
        .into_iter()
        .map(|b| host_batch(&tokens, b, device))
        .collect();
    Prepared {
        window,
        slots,
        failed,
        batches,
        tokenize_time: started.elapsed(),
        fill,
    }
}

/// Padded ids, token types and attention mask of one pass; in pinned memory
/// when they go to a GPU, so the copy can overlap the previous pass.
fn host_batch(tokens: &[Encoded], batch: PlannedBatch, device: Device) -> HostBatch {
    let (rows, len) = (batch.rows.len(), batch.len);
    let mut ids = vec![0i64; rows * len];
    let mut types = vec![0i64; rows * len];
    let mut mask = vec![0i64; rows * len];
    for (row, &t) in batch.rows.iter().enumerate() {
        let e = &tokens[t];
        let base = row * len;
        ids[base..base + e.ids.len()].copy_from_slice(&e.ids);
        types[base..base + e.type_ids.len()].copy_from_slice(&e.type_ids);
        mask[base..base + e.ids.len()].fill(1);
    }
    let tensor = |v: Vec<i64>| {
        let t = Tensor::from_slice(&v).view([rows as i64, len as i64]);
        if device.is_cuda() {
            t.pin_memory(device)
        } else {
            t
        }
    };
    HostBatch {
        rows: batch.rows,
        ids: tensor(ids),
        types: tensor(types),
        mask: tensor(mask),
    }
}
