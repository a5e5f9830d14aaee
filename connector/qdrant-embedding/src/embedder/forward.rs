//! The forward pass: each prepared window's passes run on the device; the
//! pooled vectors stay there until the window is done and come back in one
//! copy, then every job of the window is answered.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use connect_api::metrics as names;
use metrics::Histogram;
use tch::{Device, Kind, Tensor};

use super::model::EncoderModel;
use super::tokenize::{HostBatch, Prepared};
use super::{EmbedError, Stats};

/// The forward stage: answer every prepared window until the tokenizing
/// stage is gone.
pub fn run(
    model: EncoderModel,
    prepared: Receiver<Prepared>,
    stats: Arc<Stats>,
    series: ModelSeries,
) {
    for window in prepared {
        answer(&model, window, &stats, &series);
    }
}

/// The model's series: one model serves every task of the worker, so they
/// are labelled by device and precision rather than by task.
pub struct ModelSeries {
    batch_seconds: Histogram,
    pass_tokens: Histogram,
}

impl ModelSeries {
    pub fn new(model: &EncoderModel) -> Self {
        let device = format!("{:?}", model.device).to_ascii_lowercase();
        let precision = match model.kind {
            Kind::Half => "fp16",
            Kind::BFloat16 => "bf16",
            _ => "fp32",
        };
        // The model's folder, by its own name or its parent's (`…/name/model`).
        let named = model
            .dir
            .components()
            .rev()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .find(|c| c != "model")
            .unwrap_or_default();
        metrics::gauge!(names::EMBED_DEVICE, "model" => named, "device" => device.clone(), "precision" => precision)
            .set(1.0);
        let labels = [("device", device), ("precision", precision.to_string())];
        Self {
            batch_seconds: metrics::histogram!(names::EMBED_BATCH_SECONDS, &labels),
            pass_tokens: metrics::histogram!(names::EMBED_PASS_TOKENS, &labels),
        }
    }
}

fn answer(model: &EncoderModel, prepared: Prepared, stats: &Stats, series: &ModelSeries) {
    let started = Instant::now();
    let Prepared {
        window,
        slots,
        mut failed,
        batches,
        tokenize_time,
        fill,
    } = prepared;
    let _guard = tch::no_grad_guard();
    // Pooled `[rows, dim]` tensors on the device, with the slots they answer.
    let mut pooled: Vec<(&[usize], Tensor)> = Vec::with_capacity(batches.len());
    for batch in &batches {
        series
            .pass_tokens
            .record(batch.ids.size().iter().product::<i64>() as f64);
        match run_splitting(model, batch) {
            Ok(vectors) => pooled.push((&batch.rows, vectors)),
            Err(e) => {
                for &slot in &batch.rows {
                    failed.insert(slots[slot].0, e.clone());
                }
            }
        }
    }
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; slots.len()];
    if !pooled.is_empty() {
        let parts: Vec<&Tensor> = pooled.iter().map(|(_, t)| t).collect();
        match copy_back(model, &parts) {
            Ok(flat) => {
                let mut chunks = flat.chunks_exact(model.dimension);
                for (rows, _) in &pooled {
                    for &slot in *rows {
                        vectors[slot] = chunks.next().map(<[f32]>::to_vec);
                    }
                }
            }
            Err(e) => {
                for (rows, _) in &pooled {
                    for &slot in *rows {
                        failed.insert(slots[slot].0, e.clone());
                    }
                }
            }
        }
    }
    let mut answers: Vec<Vec<Option<Vec<f32>>>> = window
        .jobs
        .iter()
        .map(|j| vec![None; j.texts.len()])
        .collect();
    for ((j, i), vector) in slots.iter().zip(vectors) {
        answers[*j][*i] = vector;
    }
    let texts: usize = answers.iter().map(Vec::len).sum();
    stats.record_window(texts, batches.len(), fill, tokenize_time, started.elapsed());
    series.batch_seconds.record(started.elapsed().as_secs_f64());
    for ((j, job), answer) in window.jobs.into_iter().enumerate().zip(answers) {
        let reply = match failed.remove(&j) {
            Some(e) => Err(e),
            // Every text of a job that did not fail has its vector; never an empty one.
            None => answer
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| EmbedError::Model("a vector went missing".into())),
        };
        let _ = job.reply.send(reply);
    }
}

/// One pass; when libtorch fails on it (out of GPU memory), the pass is
/// split in two and each half retried.
fn run_splitting(model: &EncoderModel, batch: &HostBatch) -> Result<Tensor, EmbedError> {
    let run = |ids: &Tensor, types: &Tensor, mask: &Tensor| {
        catch_unwind(AssertUnwindSafe(|| model.pooled(ids, types, mask))).map_err(panic_message)
    };
    split_on_oom(&batch.ids, &batch.types, &batch.mask, &run)
}

fn split_on_oom(
    ids: &Tensor,
    types: &Tensor,
    mask: &Tensor,
    run: &dyn Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor, String>,
) -> Result<Tensor, EmbedError> {
    match run(ids, types, mask) {
        Ok(t) => Ok(t),
        Err(message) => {
            let rows = ids.size()[0];
            let oom = message.contains("out of memory") || message.contains("OutOfMemory");
            if !oom || rows < 2 {
                return Err(EmbedError::Model(message));
            }
            tracing::warn!(rows, "embedding pass ran out of memory; splitting it");
            let half = rows / 2;
            let first = split_on_oom(
                &ids.narrow(0, 0, half),
                &types.narrow(0, 0, half),
                &mask.narrow(0, 0, half),
                run,
            )?;
            let second = split_on_oom(
                &ids.narrow(0, half, rows - half),
                &types.narrow(0, half, rows - half),
                &mask.narrow(0, half, rows - half),
                run,
            )?;
            Ok(Tensor::cat(&[first, second], 0))
        }
    }
}

/// The window's pooled vectors, in pass order, as one host buffer: on a GPU
/// this is the only synchronising copy of the window.
fn copy_back(model: &EncoderModel, parts: &[&Tensor]) -> Result<Vec<f32>, EmbedError> {
    catch_unwind(AssertUnwindSafe(|| {
        let all = Tensor::cat(parts, 0).to_kind(Kind::Float);
        let host = if model.device == Device::Cpu {
            all
        } else {
            all.to_device(Device::Cpu)
        };
        Vec::<f32>::try_from(host.contiguous().view(-1))
    }))
    .map_err(panic_message)
    .and_then(|r| r.map_err(|e| e.to_string()))
    .map_err(EmbedError::Model)
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "libtorch failed".into())
}

impl Stats {
    fn record_window(
        &self,
        texts: usize,
        passes: usize,
        fill: f64,
        tokenize: std::time::Duration,
        forward: std::time::Duration,
    ) {
        self.texts.fetch_add(texts as u64, Ordering::Relaxed);
        self.windows.fetch_add(1, Ordering::Relaxed);
        self.passes.fetch_add(passes as u64, Ordering::Relaxed);
        self.fill_permille
            .store((fill * 1000.0) as u64, Ordering::Relaxed);
        self.tokenize_us
            .fetch_add(tokenize.as_micros() as u64, Ordering::Relaxed);
        self.forward_us
            .fetch_add(forward.as_micros() as u64, Ordering::Relaxed);
    }
}
