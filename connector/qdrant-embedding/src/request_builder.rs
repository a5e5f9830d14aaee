//! Records → the writes Qdrant gets (Vector's `request_builder`): decode each
//! record, map it to a point (with the text to embed) or a delete, then keep
//! only the last write per point. Records that cannot become a write are
//! reported with their reason (→ DLQ).

use std::collections::HashMap;

use connect_api::{Data, PutContext, SinkRecord};
use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::{PointId, PointStruct};
use serde_json::Value;

use crate::config::SinkSettings;
use crate::record_mapping::{self as mapping, bad};

/// A point to upsert: the record it comes from, and its text when the
/// vector is still to be embedded.
pub struct Upsert {
    pub record: usize,
    pub point: PointStruct,
    pub text: Option<String>,
}

/// One write the batch asks for.
enum Write {
    Upsert(Box<Upsert>),
    Delete(PointId),
}

/// The batch's writes, per collection, in record order.
#[derive(Default)]
pub struct Writes {
    pub upserts: Vec<(String, Vec<Upsert>)>,
    pub deletes: Vec<(String, Vec<PointId>)>,
}

/// Decode and map every record; the last write per (collection, point id)
/// wins, so a batch never writes a point twice.
pub fn build(
    records: &[SinkRecord],
    settings: &SinkSettings,
    embeds: bool,
    ctx: &mut PutContext,
) -> Writes {
    let mut planned: Vec<(String, Write)> = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        match map(index, record, settings, embeds) {
            Ok(Some(write)) => planned.push(write),
            Ok(None) => {}
            Err(e) => ctx.report(record, e),
        }
    }
    last_per_point(planned)
}

/// A record's collection and write: `None` for a tombstone when deletes
/// are off. Records in Qdrant's format name their own collection.
fn map(
    index: usize,
    record: &SinkRecord,
    settings: &SinkSettings,
    embeds: bool,
) -> Result<Option<(String, Write)>, connect_api::RecordError> {
    let collection = settings.raw.collection.replace("${topic}", &record.topic);
    if record.value.is_null() {
        return if settings.raw.delete_enabled {
            mapping::key_id(&record.key).map(|id| Some((collection, Write::Delete(id))))
        } else {
            Ok(None)
        };
    }
    let value = decode(&record.value)?;
    if mapping::is_qdrant_format(&value) {
        let p = mapping::given_point(&value)?;
        let write = Write::Upsert(Box::new(Upsert {
            record: index,
            point: PointStruct::new(p.id, p.vectors, mapping::to_qdrant_payload(p.payload)),
            text: None,
        }));
        return Ok(Some((p.collection, write)));
    }
    let Some(text_source) = settings.text.as_ref().filter(|_| embeds) else {
        return Err(bad(
            "InvalidRecord",
            "not in Qdrant's connector format {collection_name, id, vector, payload}",
        ));
    };
    let text = text_source.text(&value)?;
    let id = settings.ids.point_id(record, &value)?;
    let payload = mapping::payload(
        record,
        &value,
        &settings.raw.payload_include,
        &settings.raw.payload_exclude,
    );
    let write = Write::Upsert(Box::new(Upsert {
        record: index,
        // The vector is filled in once embedded.
        point: PointStruct::new(id, Vec::<f32>::new(), mapping::to_qdrant_payload(payload)),
        text: Some(text),
    }));
    Ok(Some((collection, write)))
}

/// The record's value as a JSON object.
fn decode(value: &Data) -> Result<Value, connect_api::RecordError> {
    let value = match value {
        Data::Bytes(_) => {
            return Err(bad(
                "NotJson",
                "the value is raw bytes; use JsonConverter or StringConverter",
            ));
        }
        Data::Text(t) => serde_json::from_str::<Value>(t)
            .map_err(|e| bad("NotJson", format!("the value is not JSON: {e}")))?,
        other => other.to_json().unwrap_or(Value::Null),
    };
    if !value.is_object() {
        return Err(bad(
            "NotJson",
            format!(
                "the value is not a JSON object but {}",
                connect_api::config::json_kind(&value)
            ),
        ));
    }
    Ok(value)
}

/// A point id as a map key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdKey {
    Num(u64),
    Uuid(String),
    None,
}

fn id_key(id: Option<&PointId>) -> IdKey {
    match id.and_then(|id| id.point_id_options.as_ref()) {
        Some(PointIdOptions::Num(n)) => IdKey::Num(*n),
        Some(PointIdOptions::Uuid(u)) => IdKey::Uuid(u.to_ascii_lowercase()),
        None => IdKey::None,
    }
}

fn last_per_point(planned: Vec<(String, Write)>) -> Writes {
    let key = |collection: &str, write: &Write| {
        let id = match write {
            Write::Upsert(u) => id_key(u.point.id.as_ref()),
            Write::Delete(id) => id_key(Some(id)),
        };
        (collection.to_string(), id)
    };
    let mut last: HashMap<(String, IdKey), usize> = HashMap::new();
    for (pos, (collection, write)) in planned.iter().enumerate() {
        last.insert(key(collection, write), pos);
    }
    let mut writes = Writes::default();
    for (pos, (collection, write)) in planned.into_iter().enumerate() {
        if last.get(&key(&collection, &write)) != Some(&pos) {
            continue;
        }
        match write {
            Write::Upsert(u) => push(&mut writes.upserts, collection, *u),
            Write::Delete(id) => push(&mut writes.deletes, collection, id),
        }
    }
    writes
}

fn push<T>(groups: &mut Vec<(String, Vec<T>)>, collection: String, item: T) {
    match groups.iter_mut().find(|(c, _)| *c == collection) {
        Some((_, items)) => items.push(item),
        None => groups.push((collection, vec![item])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(record: usize, id: PointId) -> Write {
        Write::Upsert(Box::new(Upsert {
            record,
            point: PointStruct::new(
                id,
                Vec::<f32>::new(),
                HashMap::<String, qdrant_client::qdrant::Value>::new(),
            ),
            text: Some(format!("text {record}")),
        }))
    }

    #[test]
    fn the_last_write_per_point_wins_keyed_by_the_id_itself() {
        let a = "6f1e4a58-0c1d-4e4b-9c57-3d2a4b5c6d7e";
        let planned = vec![
            ("c".to_string(), upsert(0, PointId::from(a.to_string()))),
            ("c".to_string(), upsert(1, PointId::from(7u64))),
            // Same UUID in upper case: the same point.
            ("c".to_string(), upsert(2, PointId::from(a.to_uppercase()))),
            ("other".to_string(), upsert(3, PointId::from(7u64))),
            ("c".to_string(), Write::Delete(PointId::from(7u64))),
        ];
        let writes = last_per_point(planned);
        let records: Vec<(String, Vec<usize>)> = writes
            .upserts
            .iter()
            .map(|(c, u)| (c.clone(), u.iter().map(|u| u.record).collect()))
            .collect();
        assert_eq!(
            records,
            vec![("c".to_string(), vec![2]), ("other".to_string(), vec![3])]
        );
        assert_eq!(writes.deletes.len(), 1);
        assert_eq!(writes.deletes[0].0, "c");
    }
}
