//! Our vectors match sentence-transformers' on the same model: cosine ≥
//! 0.9999 in fp32 (≥ 0.999 in fp16/bf16) for ~50 varied texts, including
//! several languages and texts past the 256-token limit.
//!
//! `EMBEDDING_TEST_DEVICE` (default cpu) and `EMBEDDING_TEST_PRECISION`
//! (default fp32) run the same check on a GPU.

use std::sync::Arc;

use qdrant_embedding_sink::embedder::{
    BatchOptions, DeviceSpec, EmbeddingService, Precision, cpu_has_bf16_units, default_model_dir,
};

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[tokio::test(flavor = "multi_thread")]
async fn vectors_match_sentence_transformers() {
    let device: DeviceSpec = std::env::var("EMBEDDING_TEST_DEVICE")
        .unwrap_or_else(|_| "cpu".into())
        .parse()
        .unwrap();
    let precision: Precision = std::env::var("EMBEDDING_TEST_PRECISION")
        .unwrap_or_else(|_| "fp32".into())
        .parse()
        .unwrap();
    check_fixture(device, precision, BatchOptions::default()).await;
}

/// `embedding.precision=auto` picks bf16 on CPUs with bf16 units only
/// because this holds: the fixture within 0.999 in bf16, on the CPU.
#[tokio::test(flavor = "multi_thread")]
async fn bf16_on_the_cpu_holds_the_fixture() {
    check_fixture(DeviceSpec::Cpu, Precision::Bf16, BatchOptions::default()).await;
}

/// The GPU's batching (lengths padded to multiples of 16, large passes)
/// changes nothing but padding, so the vectors stay the model's.
#[tokio::test(flavor = "multi_thread")]
async fn gpu_style_padding_holds_the_fixture() {
    let options = BatchOptions {
        pad_to: Some(16),
        token_budget: Some(131_072),
        window_texts: Some(16_384),
        ..BatchOptions::default()
    };
    check_fixture(DeviceSpec::Cpu, Precision::Fp32, options).await;
}

/// A service of its own (not the shared one) on the installed model.
async fn service(
    device: DeviceSpec,
    precision: Precision,
    options: BatchOptions,
) -> Arc<EmbeddingService> {
    let dir = default_model_dir().expect("the default model is installed by scripts/setup.sh");
    let model = tokio::task::spawn_blocking(move || {
        qdrant_embedding_sink::embedder::SentenceTransformer::load(&dir, device, precision)
    })
    .await
    .unwrap()
    .expect("model loads");
    EmbeddingService::start(model, options)
}

async fn check_fixture(device: DeviceSpec, precision: Precision, options: BatchOptions) {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/minilm_reference.json")).expect("fixture");
    let texts: Vec<String> = serde_json::from_value(fixture["texts"].clone()).unwrap();
    let expected: Vec<Vec<f32>> = serde_json::from_value(fixture["embeddings"].clone()).unwrap();
    let full_precision = precision == Precision::Fp32
        || (precision == Precision::Auto && device == DeviceSpec::Cpu && !cpu_has_bf16_units());
    let threshold = if full_precision { 0.9999 } else { 0.999 };
    // No cache: every vector checked here comes from the model.
    let service = service(
        device,
        precision,
        BatchOptions {
            cache_entries: 0,
            ..options
        },
    )
    .await;
    assert_eq!(service.dimension, 384);

    // Once as one request, once as concurrent requests that the service coalesces.
    let together = service.embed(texts.clone()).await.unwrap();
    let parts = futures_join(&service, &texts).await;
    let mut worst = 1.0f64;
    for (i, text) in texts.iter().enumerate() {
        for got in [&together[i], &parts[i]] {
            let c = cosine(got, &expected[i]);
            worst = worst.min(c);
            assert!(
                c >= threshold,
                "text {i} ({:.40}…): cosine {c:.6} < {threshold} on {device} {precision:?}",
                text
            );
            let norm: f64 = got.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-3, "normalised: {norm}");
        }
    }
    eprintln!(
        "embedding fixture: {} texts on {} ({precision:?}), worst cosine {worst:.7}",
        texts.len(),
        service.device
    );
}

async fn futures_join(service: &Arc<EmbeddingService>, texts: &[String]) -> Vec<Vec<f32>> {
    let handles: Vec<_> = texts
        .chunks(7)
        .map(|chunk| {
            let service = service.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move { service.embed(chunk).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.extend(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_and_repeated_texts_get_the_models_vectors() {
    let service = service(
        DeviceSpec::Cpu,
        Precision::Fp32,
        BatchOptions {
            cache_entries: 2,
            ..BatchOptions::default()
        },
    )
    .await;
    let texts: Vec<String> = [
        "espresso machine",
        "running shoes",
        "espresso machine",
        "yoga mat",
    ]
    .map(String::from)
    .to_vec();
    let first = service.embed(texts.clone()).await.unwrap();
    assert_eq!(first[0], first[2], "a repeated text gets its vector");
    assert_eq!(service.cached(), 2, "three distinct texts, a cache of two");
    let again = service.embed(texts.clone()).await.unwrap();
    for (a, b) in first.iter().zip(&again) {
        assert!(cosine(a, b) > 0.99999, "a cached vector is the model's");
    }
    let alone = service
        .embed(vec!["running shoes".to_string()])
        .await
        .unwrap();
    assert!(cosine(&alone[0], &first[1]) > 0.99999);
}

/// Two tasks asking for the same new texts at once: the model sees them once.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_embed_each_text_once() {
    // No cache: only the in-flight sharing can spare the second embedding.
    let service = service(
        DeviceSpec::Cpu,
        Precision::Fp32,
        BatchOptions {
            cache_entries: 0,
            ..BatchOptions::default()
        },
    )
    .await;
    let texts: Vec<String> = (0..20).map(|i| format!("product number {i}")).collect();
    let (a, b) = tokio::join!(service.embed(texts.clone()), service.embed(texts.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len(), 20);
    assert_eq!(a, b);
    let through_model = service
        .stats
        .texts
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(through_model, 20, "each text went through the model once");
    // Positive control: without the overlap, the same texts are embedded again.
    service.embed(texts).await.unwrap();
    assert_eq!(
        service
            .stats
            .texts
            .load(std::sync::atomic::Ordering::Relaxed),
        40
    );
}
