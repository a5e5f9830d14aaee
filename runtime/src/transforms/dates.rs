//! Java's `SimpleDateFormat` (what `TimestampRouter.timestamp.format` and
//! `TimestampConverter.format` take), in UTC, formatting and parsing.
//!
//! Deliberate differences from Java:
//! - the calendar is proleptic Gregorian (Java switches to the Julian
//!   calendar before 1582-10-15);
//! - the week-based letters `Y`, `w`, `W` and `F` are refused (their
//!   meaning depends on a locale's week rules);
//! - parsing reads `E` (day of week) but does not use it, and reads only the
//!   zones `UTC`, `GMT`, `UT`, `Z` and numeric offsets (`+01:00`,
//!   `GMT+1`, `-0800`), no zone names such as `PST`.
//!
//! As Java does (leniently): numbers out of range roll over (month 13 is
//! January of the next year), a numeric field followed directly by another
//! one takes exactly as many digits as it has letters, and text after the
//! last field is ignored.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateFormat {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    /// A pattern letter and how many times it repeats.
    Field(char, usize),
}

/// Every `SimpleDateFormat` pattern letter.
const JAVA_LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

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
/// Monday first, as chrono numbers them.
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const MS_PER_DAY: i64 = 86_400_000;

impl DateFormat {
    /// Parse `pattern`; the error names the letter Java refuses
    /// (`Illegal pattern character 'b'`) or this host does not support.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut literal = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated quote".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&q) => {
                            literal.push(q);
                            i += 1;
                        }
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !JAVA_LETTERS.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                if let Some(what) = match c {
                    'Y' => Some("week year"),
                    'w' => Some("week in year"),
                    'W' => Some("week in month"),
                    'F' => Some("day of week in month"),
                    _ => None,
                } {
                    return Err(format!(
                        "Pattern character '{c}' ({what}) is not supported by this host"
                    ));
                }
                let n = chars[i..].iter().take_while(|&&x| x == c).count();
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(Token::Field(c, n));
                i += n;
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(Self {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// `millis` since the epoch, written in UTC.
    pub(crate) fn format(&self, millis: i64) -> String {
        let t = DateTime::<Utc>::from_timestamp_millis(millis).unwrap_or(if millis < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        });
        let (year, hour) = (t.year(), i64::from(t.hour()));
        let era_year = i64::from(if year <= 0 { 1 - year } else { year });
        let mut out = String::new();
        for token in &self.tokens {
            let (c, n) = match token {
                Token::Literal(l) => {
                    out.push_str(l);
                    continue;
                }
                Token::Field(c, n) => (*c, *n),
            };
            let num = |v: i64| format!("{v:0n$}");
            let text = |full: &str| {
                if n >= 4 {
                    full.to_string()
                } else {
                    full[..3].to_string()
                }
            };
            let s = match c {
                'G' => (if year <= 0 { "BC" } else { "AD" }).to_string(),
                'y' if n == 2 => format!("{:02}", era_year % 100),
                'y' => num(era_year),
                'M' | 'L' if n >= 3 => text(MONTHS[t.month0() as usize]),
                'M' | 'L' => num(t.month().into()),
                'd' => num(t.day().into()),
                'D' => num(t.ordinal().into()),
                'E' => text(DAYS[t.weekday().num_days_from_monday() as usize]),
                'u' => num(t.weekday().number_from_monday().into()),
                'a' => (if hour < 12 { "AM" } else { "PM" }).to_string(),
                'H' => num(hour),
                'k' => num(if hour == 0 { 24 } else { hour }),
                'K' => num(hour % 12),
                'h' => num(if hour % 12 == 0 { 12 } else { hour % 12 }),
                'm' => num(t.minute().into()),
                's' => num(t.second().into()),
                'S' => num(millis.rem_euclid(1000)),
                'z' if n >= 4 => "Coordinated Universal Time".to_string(),
                'z' => "UTC".to_string(),
                'Z' => "+0000".to_string(),
                'X' => "Z".to_string(),
                _ => String::new(),
            };
            out.push_str(&s);
        }
        out
    }

    /// The instant `text` stands for (millis since the epoch), or `None`
    /// when it does not match the pattern (Java's `ParseException`).
    pub(crate) fn parse(&self, text: &str) -> Option<i64> {
        let text: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let mut f = Fields::default();
        for (i, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Literal(l) => {
                    for c in l.chars() {
                        if text.get(pos) != Some(&c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Token::Field(c, n) => {
                    while matches!(text.get(pos), Some(' ' | '\t')) {
                        pos += 1;
                    }
                    let abutting = matches!(self.tokens.get(i + 1), Some(Token::Field(next, m)) if is_numeric(*next, *m));
                    pos = f.read(*c, *n, &text, pos, abutting)?;
                }
            }
        }
        f.millis()
    }
}

fn is_numeric(c: char, n: usize) -> bool {
    match c {
        'M' | 'L' => n <= 2,
        'G' | 'E' | 'a' | 'z' | 'Z' | 'X' => false,
        _ => true,
    }
}

/// What parsing read; unset fields take the epoch's.
#[derive(Default)]
struct Fields {
    bc: bool,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour_of_day: Option<i64>,
    hour: Option<i64>,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    milli: i64,
    offset_minutes: i64,
}

/// Case-insensitive: which of `names` (full, then 3-letter) starts at `pos`.
fn read_name(names: &[&str], text: &[char], pos: usize) -> Option<(usize, usize)> {
    let starts = |name: &str| {
        let len = name.chars().count();
        let matches = text.len() >= pos + len
            && text[pos..pos + len]
                .iter()
                .zip(name.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b));
        matches.then_some(pos + len)
    };
    names
        .iter()
        .enumerate()
        .find_map(|(i, n)| starts(n).map(|end| (i, end)))
        .or_else(|| {
            names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.len() > 3)
                .find_map(|(i, n)| starts(&n[..3]).map(|end| (i, end)))
        })
}

/// A number at `pos`: exactly `width` digits when given, else as many as
/// there are (with an optional sign).
fn read_number(text: &[char], pos: usize, width: Option<usize>) -> Option<(i64, usize)> {
    let mut end = pos;
    let negative = width.is_none() && matches!(text.get(pos), Some('-'));
    if negative || (width.is_none() && text.get(pos) == Some(&'+')) {
        end += 1;
    }
    let digits_start = end;
    while end < text.len()
        && text[end].is_ascii_digit()
        && width.is_none_or(|w| end - digits_start < w)
    {
        end += 1;
    }
    if end == digits_start || width.is_some_and(|w| end - digits_start != w) {
        return None;
    }
    let digits: String = text[digits_start..end].iter().collect();
    let v: i64 = digits.parse().ok()?;
    Some((if negative { -v } else { v }, end))
}

/// A zone: `UTC`/`GMT`/`UT` with an optional offset, `Z`, or an offset.
fn read_zone(text: &[char], pos: usize) -> Option<(i64, usize)> {
    let rest: String = text[pos..]
        .iter()
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    let (pos, named) = if rest.starts_with("UTC") || rest.starts_with("GMT") {
        (pos + 3, true)
    } else if rest.starts_with("UT") {
        (pos + 2, true)
    } else if rest.starts_with('Z') {
        return Some((0, pos + 1));
    } else {
        (pos, false)
    };
    let sign = match text.get(pos) {
        Some('+') => 1,
        Some('-') => -1,
        _ if named => return Some((0, pos)),
        _ => return None,
    };
    let digits = text[pos + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let (hours, minutes, end) = match digits {
        1 | 2 if text.get(pos + 1 + digits) == Some(&':') => {
            let (h, e) = read_number(text, pos + 1, Some(digits))?;
            let (m, e) = read_number(text, e + 1, Some(2))?;
            (h, m, e)
        }
        1 | 2 => {
            let (h, e) = read_number(text, pos + 1, Some(digits))?;
            (h, 0, e)
        }
        4 => {
            let (h, e) = read_number(text, pos + 1, Some(2))?;
            let (m, e) = read_number(text, e, Some(2))?;
            (h, m, e)
        }
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then_some((sign * (hours * 60 + minutes), end))
}

impl Fields {
    /// Read field `c` (`n` letters) at `pos`; the position after it.
    fn read(
        &mut self,
        c: char,
        n: usize,
        text: &[char],
        pos: usize,
        abutting: bool,
    ) -> Option<usize> {
        let width = abutting.then_some(n);
        let number = || read_number(text, pos, width);
        let end = match c {
            'G' => {
                let (i, end) = read_name(&["AD", "BC"], text, pos)?;
                self.bc = i == 1;
                end
            }
            'M' | 'L' if n >= 3 => {
                let (i, end) = read_name(&MONTHS, text, pos)?;
                self.month = Some(i as i64 + 1);
                end
            }
            'E' => read_name(&DAYS, text, pos)?.1,
            'a' => {
                let (i, end) = read_name(&["AM", "PM"], text, pos)?;
                self.pm = Some(i == 1);
                end
            }
            'z' | 'Z' | 'X' => {
                let (offset, end) = read_zone(text, pos)?;
                self.offset_minutes = offset;
                end
            }
            _ => {
                let (v, end) = number()?;
                match c {
                    'y' => {
                        let two_digits = n <= 2
                            && end - pos == 2
                            && text[pos..end].iter().all(char::is_ascii_digit);
                        self.year = Some(if two_digits { two_digit_year(v) } else { v });
                    }
                    'M' | 'L' => self.month = Some(v),
                    'd' => self.day = Some(v),
                    'D' => self.day_of_year = Some(v),
                    'H' => self.hour_of_day = Some(v),
                    'k' => self.hour_of_day = Some(if v == 24 { 0 } else { v }),
                    'K' => self.hour = Some(v),
                    'h' => self.hour = Some(if v == 12 { 0 } else { v }),
                    'm' => self.minute = v,
                    's' => self.second = v,
                    'S' => self.milli = v,
                    _ => {} // 'u': read, not used.
                }
                end
            }
        };
        Some(end)
    }

    fn millis(&self) -> Option<i64> {
        let mut year = self.year.unwrap_or(1970);
        if self.bc {
            year = 1 - year;
        }
        let date = match (self.day_of_year, self.month, self.day) {
            (Some(doy), None, None) => NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)?
                .checked_add_signed(TimeDelta::try_days(doy - 1)?)?,
            (_, month, day) => {
                let m0 = month.unwrap_or(1) - 1;
                let y = i32::try_from(year.checked_add(m0.div_euclid(12))?).ok()?;
                NaiveDate::from_ymd_opt(y, u32::try_from(m0.rem_euclid(12)).ok()? + 1, 1)?
                    .checked_add_signed(TimeDelta::try_days(day.unwrap_or(1) - 1)?)?
            }
        };
        let pm = i64::from(self.pm.unwrap_or(false)) * 12;
        let hour = match (self.hour_of_day, self.hour) {
            (Some(h), _) => h,
            (None, Some(h)) => h + pm,
            (None, None) => pm,
        };
        let days = i64::from(date.num_days_from_ce()) - 719_163;
        days.checked_mul(MS_PER_DAY)?
            .checked_add(hour.checked_mul(3_600_000)?)?
            .checked_add(self.minute.checked_mul(60_000)?)?
            .checked_add(self.second.checked_mul(1000)?)?
            .checked_add(self.milli)?
            .checked_sub(self.offset_minutes * 60_000)
    }
}

/// Java's reading of a two-digit year: within 80 years before and 20
/// after now.
fn two_digit_year(v: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let this_year = DateTime::<Utc>::from_timestamp_millis(now).map_or(1970, |t| t.year());
    let start = i64::from(this_year) - 80;
    start / 100 * 100 + v + if v < start % 100 { 100 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(pattern: &str, millis: i64) -> String {
        DateFormat::new(pattern).unwrap().format(millis)
    }
    fn parse(pattern: &str, text: &str) -> Option<i64> {
        DateFormat::new(pattern).unwrap().parse(text)
    }

    #[test]
    fn formats() {
        assert_eq!(fmt("yyyyMMddHHmmss", 0), "19700101000000");
        assert_eq!(fmt("yyyyMMddHHmmss", 951_782_400_000), "20000229000000");
        assert_eq!(fmt("yyyyMMddHHmmss", -1000), "19691231235959");
        // 2017-01-03T06:30:01.864Z, a Tuesday.
        let t = 1_483_425_001_864;
        assert_eq!(
            fmt("yyyy-MM-dd'T'HH:mm:ss.SSS EEE", t),
            "2017-01-03T06:30:01.864 Tue"
        );
        assert_eq!(
            fmt("EEEE d MMMM yy, h:mm a", t),
            "Tuesday 3 January 17, 6:30 AM"
        );
        assert_eq!(fmt("MMM DDD u k K G", t), "Jan 003 2 6 6 AD");
        assert_eq!(
            fmt("'o''clock' '' S z Z X zzzz", t),
            "o'clock ' 864 UTC +0000 Z Coordinated Universal Time"
        );
        assert_eq!(fmt("y yyy", t), "2017 2017");
    }

    #[test]
    fn refuses_letters_naming_them() {
        let e = DateFormat::new("bad-format").unwrap_err();
        assert_eq!(e, "Illegal pattern character 'b'");
        let e = DateFormat::new("yyyy-ww").unwrap_err();
        assert!(e.contains("'w'") && e.contains("not supported"), "{e}");
        assert!(DateFormat::new("'oops").is_err());
        assert!(DateFormat::new("yyyy 'at' HH").is_ok());
    }

    #[test]
    fn parses() {
        let p = "yyyy MM dd HH mm ss SSS z";
        assert_eq!(parse(p, "1970 01 02 00 00 01 234 UTC"), Some(86_401_234));
        assert_eq!(
            parse(p, "1970 01 02 01 00 01 234 GMT+01:00"),
            Some(86_401_234)
        );
        assert_eq!(parse("yyyyMMdd", "20170103"), Some(1_483_401_600_000));
        assert_eq!(
            parse("yyyy-MM-dd", "2017-01-03 trailing"),
            Some(1_483_401_600_000)
        );
        // Lenient: 2017-02-30 is 2017-03-02.
        assert_eq!(
            parse("yyyy-MM-dd", "2017-02-30"),
            parse("yyyy-MM-dd", "2017-03-02")
        );
        assert_eq!(
            parse("dd MMM yyyy hh:mm a X", "3 jan 2017 06:30 pm -01"),
            Some(1_483_471_800_000)
        );
        assert_eq!(parse("yyyy-D", "2017-3"), Some(1_483_401_600_000));
        assert_eq!(parse("yyyy-MM-dd", "2017/01/03"), None);
        assert_eq!(parse("yyyy-MM-dd", ""), None);
        let yy = parse("yy", "05").unwrap();
        assert_eq!(fmt("yyyy", yy), "2005");
        // Formatting then parsing is the identity.
        let p = "yyyy-MM-dd'T'HH:mm:ss.SSSZ";
        for t in [0, 1_483_425_001_864, -86_400_001] {
            assert_eq!(parse(p, &fmt(p, t)), Some(t));
        }
    }
}
