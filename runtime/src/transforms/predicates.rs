//! Connect's predicates: `TopicNameMatches`, `HasHeaderKey`, `RecordIsTombstone`.

use std::sync::Arc;

use connect_api::{ConfigIssue, SinkRecord};

use super::Settings;

pub trait Predicate: Send + Sync {
    fn test(&self, record: &SinkRecord) -> bool;
}

/// The whole topic name matches `pattern` (Java's `Matcher.matches`).
struct TopicNameMatches(regex::Regex);

impl Predicate for TopicNameMatches {
    fn test(&self, r: &SinkRecord) -> bool {
        self.0.is_match(&r.topic)
    }
}

/// A required setting that Connect validates with `NonEmptyString`: set
/// but empty is "String must be non-empty", not "missing".
fn non_empty<'a>(s: &'a Settings<'_>, key: &str) -> Result<&'a str, ConfigIssue> {
    if s.get(key) == Some("") {
        return Err(s.invalid(key, "", "String must be non-empty"));
    }
    s.required(key)
}

pub(super) fn topic_name_matches(s: &Settings<'_>) -> Result<Arc<dyn Predicate>, ConfigIssue> {
    let pattern = non_empty(s, "pattern")?;
    let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| s.invalid("pattern", pattern, &format!("Invalid regex: {e}")))?;
    Ok(Arc::new(TopicNameMatches(regex)))
}

/// The record has at least one header with this key.
struct HasHeaderKey(String);

impl Predicate for HasHeaderKey {
    fn test(&self, r: &SinkRecord) -> bool {
        r.headers.iter().any(|(k, _)| *k == self.0)
    }
}

pub(super) fn has_header_key(s: &Settings<'_>) -> Result<Arc<dyn Predicate>, ConfigIssue> {
    Ok(Arc::new(HasHeaderKey(non_empty(s, "name")?.to_string())))
}

/// The value is null.
pub(super) struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&self, r: &SinkRecord) -> bool {
        r.value.is_null()
    }
}

#[cfg(test)]
mod tests {
    use connect_api::Data;
    use serde_json::json;

    use super::super::test_support::record;
    use super::super::{ConfigMap, TransformChain};

    fn predicate_chain(
        class: &str,
        settings: &[(&str, &str)],
    ) -> Result<TransformChain, Vec<super::ConfigIssue>> {
        let mut c = ConfigMap::new();
        c.insert("transforms".into(), "f".into());
        c.insert("transforms.f.type".into(), "Filter".into());
        c.insert("transforms.f.predicate".into(), "p".into());
        c.insert("predicates".into(), "p".into());
        c.insert("predicates.p.type".into(), class.into());
        for (k, v) in settings {
            c.insert(format!("predicates.p.{k}"), v.to_string());
        }
        TransformChain::from_config(&c)
    }

    fn matches(chain: &TransformChain, r: connect_api::SinkRecord) -> bool {
        chain.apply(r).unwrap().is_none()
    }

    #[test]
    fn topic_name_matches_whole_name() {
        let c = predicate_chain("TopicNameMatches", &[("pattern", "my-prefix-.*")]).unwrap();
        let mut r = record(json!(1));
        r.topic = "my-prefix-".into();
        assert!(matches(&c, r.clone()));
        r.topic = "my-prefix-foo".into();
        assert!(matches(&c, r.clone()));
        r.topic = "x-my-prefix-".into();
        assert!(!matches(&c, r.clone()));
        r.topic = "my-prefix".into();
        assert!(!matches(&c, r));
        let e = predicate_chain("TopicNameMatches", &[("pattern", "[")]).unwrap_err();
        assert_eq!(e[0].key, "predicates.p.pattern");
        let e = predicate_chain("TopicNameMatches", &[]).unwrap_err();
        assert_eq!(e[0].key, "predicates.p.pattern");
    }

    #[test]
    fn has_header_key() {
        let c = predicate_chain("HasHeaderKey", &[("name", "foo")]).unwrap();
        let mut r = record(json!(1));
        assert!(!matches(&c, r.clone()));
        r.headers.push(("bar".into(), None));
        assert!(!matches(&c, r.clone()));
        r.headers.push(("foo".into(), Some("x".into())));
        assert!(matches(&c, r));
        assert!(predicate_chain("HasHeaderKey", &[]).is_err());
    }

    #[test]
    fn record_is_tombstone() {
        let c = predicate_chain("RecordIsTombstone", &[]).unwrap();
        let mut r = record(json!(1));
        assert!(!matches(&c, r.clone()));
        r.value = Data::Null;
        assert!(matches(&c, r.clone()));
        r.value = Data::Json(serde_json::Value::Null);
        assert!(matches(&c, r));
    }

    #[test]
    fn negate_inverts() {
        let mut c = ConfigMap::new();
        for (k, v) in [
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "p"),
            ("transforms.f.negate", "true"),
            ("predicates", "p"),
            ("predicates.p.type", "RecordIsTombstone"),
        ] {
            c.insert(k.into(), v.into());
        }
        let chain = TransformChain::from_config(&c).unwrap();
        assert!(chain.apply(record(json!(1))).unwrap().is_none());
        let mut t = record(json!(1));
        t.value = Data::Null;
        assert!(chain.apply(t).unwrap().is_some());
    }
}
