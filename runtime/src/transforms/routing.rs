//! Record-level SMTs: `Filter`, `RegexRouter`, `TimestampRouter`.

use std::borrow::Cow;
use std::sync::Arc;

use connect_api::{ConfigIssue, SinkRecord};

use super::dates::DateFormat;
use super::typed::Memo;
use super::{Outcome, Part, Settings, Transformation};

/// Drops every record (gate it with a predicate).
struct Filter;

impl Transformation for Filter {
    fn apply(&self, _: &mut SinkRecord) -> Result<Outcome, String> {
        Ok(Outcome::Discard)
    }
}

pub(super) fn filter(
    _: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    Ok(Box::new(Filter))
}

/// Renames the topic when the whole name matches `regex`.
struct RegexRouter {
    regex: regex::Regex,
    replacement: String,
    /// Per topic, its new name (`None`: unchanged): a task's records come
    /// from few topics, so this skips the regex for most.
    routed: Memo<Arc<str>, Option<Arc<str>>>,
}

impl RegexRouter {
    fn route(&self, topic: &str) -> Option<Arc<str>> {
        // One pass: `replace` borrows when the whole-topic regex does not match.
        match self.regex.replace(topic, self.replacement.as_str()) {
            Cow::Owned(routed) => Some(routed.into()),
            Cow::Borrowed(_) => None,
        }
    }
}

impl Transformation for RegexRouter {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        let routed = self
            .routed
            .get(&r.topic, |topic| Ok(self.route(topic)))?
            .clone();
        if let Some(topic) = routed {
            r.topic = topic;
        }
        Ok(Outcome::Keep)
    }
}

/// Java's `Matcher.replaceFirst` syntax (`$1`, `${name}`, `\$`) as the
/// `regex` crate's (`${1}`, `${name}`, `$$`).
pub(super) fn java_replacement(java: &str) -> String {
    let mut out = String::new();
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    out.push('$');
                    for c in chars.by_ref() {
                        out.push(c);
                        if c == '}' {
                            break;
                        }
                    }
                } else {
                    let mut digits = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        digits.push(*d);
                        chars.next();
                    }
                    if digits.is_empty() {
                        out.push_str("$$");
                    } else {
                        out.push_str(&format!("${{{digits}}}"));
                    }
                }
            }
            other => out.push(other),
        }
    }
    out
}

pub(super) fn regex_router(
    s: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let pattern = s.required("regex")?;
    let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| s.invalid("regex", pattern, &format!("Invalid regex: {e}")))?;
    let replacement = s.required("replacement")?;
    Ok(Box::new(RegexRouter {
        regex,
        replacement: java_replacement(replacement),
        routed: Memo::default(),
    }))
}

/// `${topic}` and `${timestamp}` of `topic.format`, the record's timestamp
/// written with `timestamp.format` (a `SimpleDateFormat` pattern, UTC).
struct TimestampRouter {
    topic_format: String,
    timestamp_format: DateFormat,
}

impl Transformation for TimestampRouter {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        let Some(ts) = r.timestamp else {
            return Err(format!(
                "Timestamp missing on record: {}-{}@{}",
                r.topic, r.partition, r.offset
            ));
        };
        let formatted = self.timestamp_format.format(ts);
        r.topic = self
            .topic_format
            .replace("${topic}", &r.topic)
            .replace("${timestamp}", &formatted)
            .into();
        Ok(Outcome::Keep)
    }
}

pub(super) fn timestamp_router(
    s: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let topic_format = s
        .get_or("topic.format", "${topic}-${timestamp}")
        .to_string();
    let pattern = s.get_or("timestamp.format", "yyyyMMdd");
    let timestamp_format =
        DateFormat::new(pattern).map_err(|e| s.invalid("timestamp.format", pattern, &e))?;
    Ok(Box::new(TimestampRouter {
        topic_format,
        timestamp_format,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{apply, chain, record, try_chain};

    fn route(regex: &str, replacement: &str, topic: &str) -> String {
        let c = chain(
            "RegexRouter",
            &[("regex", regex), ("replacement", replacement)],
        );
        let mut r = record(json!(1));
        r.topic = topic.into();
        apply(&c, r).topic.to_string()
    }

    #[test]
    fn regex_router_cases() {
        assert_eq!(route("(.*)", "prefix-$1", "orig"), "prefix-orig");
        assert_eq!(route("(.*)-(\\d+)", "$1", "orders-20240101"), "orders");
        assert_eq!(route("(.*)", "$1-suffix", "orig"), "orig-suffix");
        assert_eq!(route("foo", "bar", "orig"), "orig");
        assert_eq!(route("(.*)", "a\\$b", "orig"), "a$b");
        assert_eq!(route("(?<name>.*)", "x-${name}", "orig"), "x-orig");
        // The whole name must match, as Java's Matcher.matches().
        assert_eq!(route("rig", "x", "orig"), "orig");
        assert!(try_chain("RegexRouter", &[("regex", "(.*)")]).is_err());
    }

    #[test]
    fn filter_drops() {
        let c = chain("Filter", &[]);
        assert!(c.apply(record(json!(1))).unwrap().is_none());
    }

    #[test]
    fn timestamp_router_defaults() {
        let c = chain("TimestampRouter", &[]);
        // 2017-01-03T06:30:01.864Z
        assert_eq!(&*apply(&c, record(json!(1))).topic, "test-20170103");
        let c = chain(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            &[
                ("topic.format", "${timestamp}_${topic}"),
                ("timestamp.format", "yyyy-MM-dd'T'HH:mm:ss.SSS EEE"),
            ],
        );
        assert_eq!(
            &*apply(&c, record(json!(1))).topic,
            "2017-01-03T06:30:01.864 Tue_test"
        );
        let mut r = record(json!(1));
        r.timestamp = None;
        assert!(c.apply(r).is_err());
        assert!(try_chain("TimestampRouter", &[("timestamp.format", "'oops")]).is_err());
    }
}
