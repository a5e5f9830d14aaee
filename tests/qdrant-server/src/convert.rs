//! qdrant-client's gRPC types ↔ qdrant-edge's types (qdrant-edge ships no
//! conversions): point ids, vectors, payloads.

use std::collections::HashMap;

use qdrant_client::qdrant::{self as grpc, point_id::PointIdOptions, value::Kind};
use qdrant_edge::{PointId, Vector, VectorInternal, VectorStructInternal, Vectors};
use serde_json::{Map, Number, Value as Json};
use tonic::Status;

pub fn point_id(id: Option<grpc::PointId>) -> Result<PointId, Status> {
    match id.and_then(|id| id.point_id_options) {
        Some(PointIdOptions::Num(n)) => Ok(PointId::NumId(n)),
        Some(PointIdOptions::Uuid(s)) => uuid::Uuid::parse_str(&s)
            .map(PointId::Uuid)
            .map_err(|_| Status::invalid_argument(format!("Unable to parse UUID: {s}"))),
        None => Err(Status::invalid_argument("point id is missing")),
    }
}

pub fn grpc_id(id: PointId) -> grpc::PointId {
    grpc::PointId {
        point_id_options: Some(match id {
            PointId::NumId(n) => PointIdOptions::Num(n),
            PointId::Uuid(u) => PointIdOptions::Uuid(u.to_string()),
        }),
    }
}

fn vector(v: grpc::Vector) -> Result<Vector, Status> {
    use grpc::vector::Vector as V;
    let bad = |e: qdrant_edge::OperationError| Status::invalid_argument(e.to_string());
    #[allow(deprecated)]
    match v.vector {
        Some(V::Dense(d)) => Ok(Vector::new_dense(d.data)),
        Some(V::Sparse(s)) => Vector::new_sparse(s.indices, s.values).map_err(bad),
        Some(V::MultiDense(m)) => {
            Vector::new_multi(m.vectors.into_iter().map(|d| d.data).collect::<Vec<_>>())
                .map_err(bad)
        }
        Some(_) => Err(Status::invalid_argument(
            "inference vectors (documents, images, objects) are not supported",
        )),
        None => match (v.indices, v.vectors_count) {
            (Some(idx), _) => Vector::new_sparse(idx.data, v.data).map_err(bad),
            (None, Some(count)) if count > 1 => {
                let dim = v.data.len() / count as usize;
                Vector::new_multi(
                    v.data
                        .chunks(dim.max(1))
                        .map(<[f32]>::to_vec)
                        .collect::<Vec<_>>(),
                )
                .map_err(bad)
            }
            _ => Ok(Vector::new_dense(v.data)),
        },
    }
}

pub fn vectors(v: Option<grpc::Vectors>) -> Result<Vectors, Status> {
    use grpc::vectors::VectorsOptions;
    match v.and_then(|v| v.vectors_options) {
        Some(VectorsOptions::Vector(single)) => Ok(Vectors::from(vector(single)?)),
        Some(VectorsOptions::Vectors(named)) => {
            let map: Result<HashMap<String, Vector>, Status> = named
                .vectors
                .into_iter()
                .map(|(k, v)| Ok((k, vector(v)?)))
                .collect();
            Ok(Vectors::from(map?))
        }
        None => Err(Status::invalid_argument("point has no vectors")),
    }
}

fn vector_output(v: VectorInternal) -> grpc::VectorOutput {
    use grpc::vector_output::Vector as V;
    let vector = match v {
        VectorInternal::Dense(data) => V::Dense(grpc::DenseVector { data }),
        VectorInternal::Sparse(s) => V::Sparse(grpc::SparseVector {
            indices: s.indices,
            values: s.values,
        }),
        VectorInternal::MultiDense(m) => V::MultiDense(grpc::MultiDenseVector {
            vectors: m
                .multi_vectors()
                .map(|d| grpc::DenseVector { data: d.to_vec() })
                .collect(),
        }),
    };
    #[allow(deprecated)]
    grpc::VectorOutput {
        data: Vec::new(),
        indices: None,
        vectors_count: None,
        vector: Some(vector),
    }
}

pub fn vectors_output(v: VectorStructInternal) -> grpc::VectorsOutput {
    use grpc::vectors_output::VectorsOptions;
    let options = match v {
        VectorStructInternal::Single(d) => {
            VectorsOptions::Vector(vector_output(VectorInternal::Dense(d)))
        }
        VectorStructInternal::MultiDense(m) => {
            VectorsOptions::Vector(vector_output(VectorInternal::MultiDense(m)))
        }
        VectorStructInternal::Named(map) => VectorsOptions::Vectors(grpc::NamedVectorsOutput {
            vectors: map
                .into_iter()
                .map(|(k, v)| (k.to_string(), vector_output(v)))
                .collect(),
        }),
    };
    grpc::VectorsOutput {
        vectors_options: Some(options),
    }
}

pub fn to_json(v: grpc::Value) -> Json {
    match v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(b),
        Some(Kind::IntegerValue(i)) => Json::from(i),
        Some(Kind::DoubleValue(d)) => Number::from_f64(d).map(Json::Number).unwrap_or(Json::Null),
        Some(Kind::StringValue(s)) => Json::String(s),
        Some(Kind::ListValue(l)) => Json::Array(l.values.into_iter().map(to_json).collect()),
        Some(Kind::StructValue(s)) => {
            Json::Object(s.fields.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
    }
}

pub fn from_json(v: Json) -> grpc::Value {
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Kind::StringValue(s),
        Json::Array(a) => Kind::ListValue(grpc::ListValue {
            values: a.into_iter().map(from_json).collect(),
        }),
        Json::Object(o) => Kind::StructValue(grpc::Struct {
            fields: o.into_iter().map(|(k, v)| (k, from_json(v))).collect(),
        }),
    };
    grpc::Value { kind: Some(kind) }
}

pub fn payload_json(p: HashMap<String, grpc::Value>) -> Json {
    Json::Object(
        p.into_iter()
            .map(|(k, v)| (k, to_json(v)))
            .collect::<Map<_, _>>(),
    )
}

pub fn payload_grpc(p: Option<qdrant_edge::Payload>) -> HashMap<String, grpc::Value> {
    p.map(|p| p.0.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        .unwrap_or_default()
}
