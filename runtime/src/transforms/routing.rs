//! Record-level SMTs: `Filter`, `RegexRouter`, `TimestampRouter`.

use connect_api::{ConfigIssue, SinkRecord};

use super::{Part, Settings, Transformation};

/// Drops every record (gate it with a predicate).
struct Filter;

impl Transformation for Filter {
    fn apply(&self, _: SinkRecord) -> Result<Option<SinkRecord>, String> {
        Ok(None)
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
}

impl Transformation for RegexRouter {
    fn apply(&self, mut r: SinkRecord) -> Result<Option<SinkRecord>, String> {
        if self.regex.is_match(&r.topic) {
            r.topic = self
                .regex
                .replace(&r.topic, self.replacement.as_str())
                .into_owned();
        }
        Ok(Some(r))
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
    }))
}

/// `${topic}` and `${timestamp}` of `topic.format`, the record's timestamp
/// written with `timestamp.format` (a `SimpleDateFormat` pattern, UTC).
struct TimestampRouter {
    topic_format: String,
    timestamp_format: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    /// A pattern letter and how many times it repeats.
    Field(char, usize),
}

fn parse_date_format(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            if i < chars.len() && chars[i] == '\'' {
                tokens.push(Token::Literal("'".into()));
                i += 1;
                continue;
            }
            while i < chars.len() && chars[i] != '\'' {
                lit.push(chars[i]);
                i += 1;
            }
            if i == chars.len() {
                return Err("Unterminated quote".into());
            }
            i += 1;
            tokens.push(Token::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            let mut n = 0;
            while i < chars.len() && chars[i] == c {
                n += 1;
                i += 1;
            }
            if !"yMdHhmsSaEDk".contains(c) {
                return Err(format!("Illegal or unsupported pattern character '{c}'"));
            }
            tokens.push(Token::Field(c, n));
        } else {
            tokens.push(Token::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(tokens)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn format_millis(tokens: &[Token], millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    const DAYS: [&str; 7] = [
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Literal(l) => out.push_str(l),
            Token::Field(c, n) => {
                let n = *n;
                let num = |v: i64| format!("{v:0n$}");
                let text = match c {
                    'y' if n == 2 => format!("{:02}", y.rem_euclid(100)),
                    'y' => num(y),
                    'M' if n >= 4 => MONTHS[mo as usize - 1].to_string(),
                    'M' if n == 3 => MONTHS[mo as usize - 1][..3].to_string(),
                    'M' => num(mo.into()),
                    'd' => num(d.into()),
                    'D' => {
                        let jan1 = days_from_civil(y, 1, 1);
                        num(days - jan1 + 1)
                    }
                    'H' => num(h),
                    'k' => num(if h == 0 { 24 } else { h }),
                    'h' => num(if h % 12 == 0 { 12 } else { h % 12 }),
                    'a' => (if h < 12 { "AM" } else { "PM" }).to_string(),
                    'm' => num(mi),
                    's' => num(s),
                    'S' => num(ms),
                    'E' => {
                        let name = DAYS[days.rem_euclid(7) as usize];
                        if n >= 4 {
                            name.to_string()
                        } else {
                            name[..3].to_string()
                        }
                    }
                    _ => String::new(),
                };
                out.push_str(&text);
            }
        }
    }
    out
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Transformation for TimestampRouter {
    fn apply(&self, mut r: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let Some(ts) = r.timestamp else {
            return Err(format!(
                "Timestamp missing on record: {}-{}@{}",
                r.topic, r.partition, r.offset
            ));
        };
        let formatted = format_millis(&self.timestamp_format, ts);
        r.topic = self
            .topic_format
            .replace("${topic}", &r.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(r))
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
        parse_date_format(pattern).map_err(|e| s.invalid("timestamp.format", pattern, &e))?;
    Ok(Box::new(TimestampRouter {
        topic_format,
        timestamp_format,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{apply, chain, record, try_chain};
    use super::*;

    fn route(regex: &str, replacement: &str, topic: &str) -> String {
        let c = chain(
            "RegexRouter",
            &[("regex", regex), ("replacement", replacement)],
        );
        let mut r = record(json!(1));
        r.topic = topic.into();
        apply(&c, r).topic
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
        assert_eq!(apply(&c, record(json!(1))).topic, "test-20170103");
        let c = chain(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            &[
                ("topic.format", "${timestamp}_${topic}"),
                ("timestamp.format", "yyyy-MM-dd'T'HH:mm:ss.SSS EEE"),
            ],
        );
        assert_eq!(
            apply(&c, record(json!(1))).topic,
            "2017-01-03T06:30:01.864 Tue_test"
        );
        let mut r = record(json!(1));
        r.timestamp = None;
        assert!(c.apply(r).is_err());
        assert!(try_chain("TimestampRouter", &[("timestamp.format", "'oops")]).is_err());
    }

    #[test]
    fn dates() {
        let t = parse_date_format("yyyyMMddHHmmss").unwrap();
        assert_eq!(format_millis(&t, 0), "19700101000000");
        assert_eq!(format_millis(&t, 951_782_400_000), "20000229000000");
        assert_eq!(format_millis(&t, -1000), "19691231235959");
    }
}
