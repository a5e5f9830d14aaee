//! A Qdrant-protocol gRPC server on Qdrant's embedded engine (qdrant-edge),
//! for the connector's tests and the local demo where no Qdrant server can
//! be installed. It serves the Collections and Points calls the connector
//! and tests use through the ordinary qdrant-client code path; everything
//! else answers UNIMPLEMENTED. Users with Docker run `qdrant/qdrant`.
//!
//! `qdrant-test-server --port 6334 --data-dir ./qdrant-data`
//!
//! Like a Qdrant configured with `service.enable_tls` and `service.api_key`,
//! it can serve gRPC over TLS (`--tls-cert cert.pem --tls-key key.pem`) and
//! require an API key (`--api-key KEY`): every call but the health check
//! must then carry it in the `api-key` metadata header (or as
//! `authorization: Bearer KEY`), else it is answered UNAUTHENTICATED.

#[macro_use]
mod unimplemented;
mod convert;
mod store;

use std::sync::Arc;
use std::time::Instant;

use qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use qdrant_client::qdrant::points_server::{Points, PointsServer};
use qdrant_client::qdrant::qdrant_server::{Qdrant, QdrantServer};
use qdrant_client::qdrant::{self as grpc};
use qdrant_edge::{
    CountRequestBuilder, NamedQuery, PointInsertOperations, PointOperations, PointStruct,
    QueryEnum, QueryRequestBuilder, RetrieveRequestBuilder, ScoringQuery, ScrollRequestBuilder,
    UpdateOperation, VectorInternal, WithVector,
};
use store::{Collection, Store, internal};
use tonic::{Request, Response, Status};

#[derive(Clone)]
struct Server {
    store: Arc<Store>,
}

fn took(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// Run blocking engine work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

fn bad_input(e: qdrant_edge::OperationError) -> Status {
    let text = e.to_string();
    if text.contains("Service internal error") {
        Status::internal(text)
    } else {
        Status::invalid_argument(text)
    }
}

fn with_payload(s: Option<grpc::WithPayloadSelector>) -> bool {
    use grpc::with_payload_selector::SelectorOptions;
    !matches!(
        s.and_then(|s| s.selector_options),
        Some(SelectorOptions::Enable(false))
    )
}

fn with_vectors(s: Option<grpc::WithVectorsSelector>) -> bool {
    use grpc::with_vectors_selector::SelectorOptions;
    matches!(
        s.and_then(|s| s.selector_options),
        Some(SelectorOptions::Enable(true))
    )
}

fn retrieved(r: qdrant_edge::Record) -> grpc::RetrievedPoint {
    grpc::RetrievedPoint {
        id: Some(convert::grpc_id(r.id)),
        payload: convert::payload_grpc(r.payload),
        vectors: r.vector.map(convert::vectors_output),
        ..Default::default()
    }
}

fn operation_done() -> Option<grpc::UpdateResult> {
    Some(grpc::UpdateResult {
        operation_id: Some(0),
        status: grpc::UpdateStatus::Completed as i32,
    })
}

async fn nearest(
    collection: Arc<Collection>,
    vector: Vec<f32>,
    using: Option<String>,
    limit: u64,
    payload: bool,
    vectors: bool,
) -> Result<Vec<grpc::ScoredPoint>, Status> {
    blocking(move || {
        let query = NamedQuery {
            query: VectorInternal::Dense(vector),
            using: using.filter(|u| !u.is_empty()),
        };
        let request = QueryRequestBuilder::new(limit.max(1) as usize)
            .query(ScoringQuery::Vector(QueryEnum::Nearest(query)))
            .with_payload(payload.into())
            .with_vector(WithVector::Bool(vectors))
            .build();
        let points = collection.shard.query(request).map_err(bad_input)?;
        Ok(points
            .into_iter()
            .map(|p| grpc::ScoredPoint {
                id: Some(convert::grpc_id(p.id)),
                payload: convert::payload_grpc(p.payload),
                score: p.score,
                version: p.version,
                vectors: p.vector.map(convert::vectors_output),
                ..Default::default()
            })
            .collect())
    })
    .await
}

#[tonic::async_trait]
impl Qdrant for Server {
    async fn health_check(
        &self,
        _: Request<grpc::HealthCheckRequest>,
    ) -> Result<Response<grpc::HealthCheckReply>, Status> {
        Ok(Response::new(grpc::HealthCheckReply {
            title: "qdrant - vector search engine (qdrant-edge test server)".into(),
            version: "1.20.0".into(),
            commit: None,
        }))
    }
}

#[tonic::async_trait]
impl Collections for Server {
    async fn get(
        &self,
        r: Request<grpc::GetCollectionInfoRequest>,
    ) -> Result<Response<grpc::GetCollectionInfoResponse>, Status> {
        let start = Instant::now();
        let c = self.store.get(&r.into_inner().collection_name)?;
        let meta = c.meta.clone();
        let count = blocking(move || {
            c.shard
                .count(CountRequestBuilder::new().exact(true).build())
                .map_err(internal)
        })
        .await?;
        Ok(Response::new(grpc::GetCollectionInfoResponse {
            result: Some(grpc::CollectionInfo {
                status: grpc::CollectionStatus::Green as i32,
                segments_count: 1,
                points_count: Some(count as u64),
                config: Some(grpc::CollectionConfig {
                    params: Some(grpc::CollectionParams {
                        shard_number: 1,
                        vectors_config: Some(meta.vectors_config()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            time: took(start),
        }))
    }

    async fn list(
        &self,
        _: Request<grpc::ListCollectionsRequest>,
    ) -> Result<Response<grpc::ListCollectionsResponse>, Status> {
        let names: Vec<String> = self
            .store
            .collections
            .read()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        Ok(Response::new(grpc::ListCollectionsResponse {
            collections: names
                .into_iter()
                .map(|name| grpc::CollectionDescription { name })
                .collect(),
            time: 0.0,
        }))
    }

    async fn create(
        &self,
        r: Request<grpc::CreateCollection>,
    ) -> Result<Response<grpc::CollectionOperationResponse>, Status> {
        let start = Instant::now();
        let store = self.store.clone();
        let result = blocking(move || store.create(r.into_inner())).await?;
        Ok(Response::new(grpc::CollectionOperationResponse {
            result,
            time: took(start),
        }))
    }

    async fn delete(
        &self,
        r: Request<grpc::DeleteCollection>,
    ) -> Result<Response<grpc::CollectionOperationResponse>, Status> {
        let result = self.store.delete(&r.into_inner().collection_name);
        Ok(Response::new(grpc::CollectionOperationResponse {
            result,
            time: 0.0,
        }))
    }

    async fn collection_exists(
        &self,
        r: Request<grpc::CollectionExistsRequest>,
    ) -> Result<Response<grpc::CollectionExistsResponse>, Status> {
        let exists = self
            .store
            .collections
            .read()
            .unwrap()
            .contains_key(&r.into_inner().collection_name);
        Ok(Response::new(grpc::CollectionExistsResponse {
            result: Some(grpc::CollectionExists { exists }),
            time: 0.0,
        }))
    }

    unimplemented_collections!();
}

#[tonic::async_trait]
impl Points for Server {
    async fn upsert(
        &self,
        r: Request<grpc::UpsertPoints>,
    ) -> Result<Response<grpc::PointsOperationResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let c = self.store.get(&r.collection_name)?;
        let points = r
            .points
            .into_iter()
            .map(|p| {
                Ok(PointStruct::new(
                    convert::point_id(p.id)?,
                    convert::vectors(p.vectors)?,
                    convert::payload_json(p.payload),
                )
                .into())
            })
            .collect::<Result<Vec<_>, Status>>()?;
        blocking(move || {
            c.shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
                ))
                .map_err(bad_input)
        })
        .await?;
        Ok(Response::new(grpc::PointsOperationResponse {
            result: operation_done(),
            time: took(start),
            usage: None,
        }))
    }

    async fn delete(
        &self,
        r: Request<grpc::DeletePoints>,
    ) -> Result<Response<grpc::PointsOperationResponse>, Status> {
        use grpc::points_selector::PointsSelectorOneOf;
        let start = Instant::now();
        let r = r.into_inner();
        let c = self.store.get(&r.collection_name)?;
        let ids = match r.points.and_then(|p| p.points_selector_one_of) {
            Some(PointsSelectorOneOf::Points(list)) => list
                .ids
                .into_iter()
                .map(|id| convert::point_id(Some(id)))
                .collect::<Result<Vec<_>, _>>()?,
            Some(PointsSelectorOneOf::Filter(_)) => {
                return Err(Status::unimplemented(
                    "delete by filter is not served by the test server",
                ));
            }
            None => return Err(Status::invalid_argument("no points selected")),
        };
        blocking(move || {
            c.shard
                .update(UpdateOperation::PointOperation(
                    PointOperations::DeletePoints { ids },
                ))
                .map_err(bad_input)
        })
        .await?;
        Ok(Response::new(grpc::PointsOperationResponse {
            result: operation_done(),
            time: took(start),
            usage: None,
        }))
    }

    async fn get(
        &self,
        r: Request<grpc::GetPoints>,
    ) -> Result<Response<grpc::GetResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let c = self.store.get(&r.collection_name)?;
        let ids = r
            .ids
            .into_iter()
            .map(|id| convert::point_id(Some(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let (payload, vectors) = (with_payload(r.with_payload), with_vectors(r.with_vectors));
        let records = blocking(move || {
            let request = RetrieveRequestBuilder::new(ids)
                .with_payload(payload.into())
                .with_vector(WithVector::Bool(vectors))
                .build();
            c.shard.retrieve(request).map_err(bad_input)
        })
        .await?;
        Ok(Response::new(grpc::GetResponse {
            result: records.into_iter().map(retrieved).collect(),
            time: took(start),
            usage: None,
        }))
    }

    async fn scroll(
        &self,
        r: Request<grpc::ScrollPoints>,
    ) -> Result<Response<grpc::ScrollResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        if r.filter.is_some() {
            return Err(Status::unimplemented(
                "scroll with a filter is not served by the test server",
            ));
        }
        let c = self.store.get(&r.collection_name)?;
        let offset = r.offset.map(|o| convert::point_id(Some(o))).transpose()?;
        let (payload, vectors, limit) = (
            with_payload(r.with_payload),
            with_vectors(r.with_vectors),
            r.limit.unwrap_or(10) as usize,
        );
        let (records, next) = blocking(move || {
            let mut request = ScrollRequestBuilder::new()
                .limit(limit)
                .with_payload(payload.into())
                .with_vector(WithVector::Bool(vectors));
            if let Some(offset) = offset {
                request = request.offset(offset);
            }
            c.shard.scroll(request.build()).map_err(bad_input)
        })
        .await?;
        Ok(Response::new(grpc::ScrollResponse {
            next_page_offset: next.map(convert::grpc_id),
            result: records.into_iter().map(retrieved).collect(),
            time: took(start),
            usage: None,
        }))
    }

    async fn count(
        &self,
        r: Request<grpc::CountPoints>,
    ) -> Result<Response<grpc::CountResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        if r.filter.is_some() {
            return Err(Status::unimplemented(
                "count with a filter is not served by the test server",
            ));
        }
        let c = self.store.get(&r.collection_name)?;
        let count = blocking(move || {
            c.shard
                .count(CountRequestBuilder::new().exact(true).build())
                .map_err(bad_input)
        })
        .await?;
        Ok(Response::new(grpc::CountResponse {
            result: Some(grpc::CountResult {
                count: count as u64,
            }),
            time: took(start),
            usage: None,
        }))
    }

    async fn query(
        &self,
        r: Request<grpc::QueryPoints>,
    ) -> Result<Response<grpc::QueryResponse>, Status> {
        use grpc::query::Variant;
        use grpc::vector_input::Variant as Input;
        let start = Instant::now();
        let r = r.into_inner();
        let c = self.store.get(&r.collection_name)?;
        let vector = match r.query.and_then(|q| q.variant) {
            Some(Variant::Nearest(grpc::VectorInput {
                variant: Some(Input::Dense(d)),
            })) => d.data,
            _ => {
                return Err(Status::unimplemented(
                    "the test server serves nearest-neighbour queries by dense vector only",
                ));
            }
        };
        let result = nearest(
            c,
            vector,
            r.using,
            r.limit.unwrap_or(10),
            with_payload(r.with_payload),
            with_vectors(r.with_vectors),
        )
        .await?;
        Ok(Response::new(grpc::QueryResponse {
            result,
            time: took(start),
            usage: None,
        }))
    }

    async fn search(
        &self,
        r: Request<grpc::SearchPoints>,
    ) -> Result<Response<grpc::SearchResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let c = self.store.get(&r.collection_name)?;
        let result = nearest(
            c,
            r.vector,
            r.vector_name,
            r.limit,
            with_payload(r.with_payload),
            with_vectors(r.with_vectors),
        )
        .await?;
        Ok(Response::new(grpc::SearchResponse {
            result,
            time: took(start),
            usage: None,
        }))
    }

    unimplemented_points!();
}

/// `--api-key`: the check real Qdrant makes on every call but the health
/// check (same header names, same messages, code UNAUTHENTICATED).
#[derive(Clone)]
struct ApiKey(Option<Arc<str>>);

impl tonic::service::Interceptor for ApiKey {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.0 else {
            return Ok(request);
        };
        let metadata = request.metadata();
        let given = metadata
            .get("api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                metadata
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
            });
        match given {
            None => Err(Status::unauthenticated(
                "Must provide an API key or an Authorization bearer token",
            )),
            Some(key) if key == &**expected => Ok(request),
            Some(_) => Err(Status::unauthenticated("Invalid api-key")),
        }
    }
}

const USAGE: &str = "usage: qdrant-test-server [--port P] [--data-dir D] \
                     [--tls-cert CERT.pem --tls-key KEY.pem] [--api-key KEY]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port = 6334u16;
    let mut data_dir = std::path::PathBuf::from("qdrant-data");
    let (mut tls_cert, mut tls_key, mut api_key) = (None, None, None);
    let mut args = std::env::args().skip(1);
    let value = |name: &str, args: &mut std::iter::Skip<std::env::Args>| {
        args.next()
            .ok_or_else(|| anyhow::anyhow!("{name} needs a value; {USAGE}"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = value("--port", &mut args)?.parse()?,
            "--data-dir" => data_dir = value("--data-dir", &mut args)?.into(),
            "--tls-cert" => tls_cert = Some(value("--tls-cert", &mut args)?),
            "--tls-key" => tls_key = Some(value("--tls-key", &mut args)?),
            "--api-key" => api_key = Some(value("--api-key", &mut args)?),
            other => anyhow::bail!("unknown argument {other}; {USAGE}"),
        }
    }
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            let read = |path: &str| {
                std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))
            };
            Some(tonic::transport::ServerTlsConfig::new().identity(
                tonic::transport::Identity::from_pem(read(&cert)?, read(&key)?),
            ))
        }
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together; {USAGE}"),
    };
    if api_key.as_deref() == Some("") {
        anyhow::bail!("--api-key needs a non-empty key");
    }
    let auth = ApiKey(api_key.map(Arc::from));
    let store = Arc::new(Store::open(&data_dir)?);
    let server = Server {
        store: store.clone(),
    };
    let addr = format!("127.0.0.1:{port}").parse()?;
    eprintln!(
        "qdrant-test-server: serving Qdrant gRPC{} on {addr}{}, data in {}",
        if tls.is_some() { " over TLS" } else { "" },
        if auth.0.is_some() {
            ", API key required"
        } else {
            ""
        },
        data_dir.display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    use tonic::service::interceptor::InterceptedService;
    builder
        // The health check answers without a key, as in Qdrant.
        .add_service(QdrantServer::new(server.clone()))
        .add_service(InterceptedService::new(
            CollectionsServer::new(server.clone()),
            auth.clone(),
        ))
        .add_service(InterceptedService::new(
            PointsServer::new(server).max_decoding_message_size(64 << 20),
            auth,
        ))
        .serve_with_shutdown(addr, async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await?;
    store.flush_all();
    eprintln!("qdrant-test-server: stopped");
    Ok(())
}
