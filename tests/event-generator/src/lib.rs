//! E-commerce behaviour events like a shop's clickstream: view, click,
//! add_to_cart and purchase events about products from a recurring
//! catalogue whose popularity is skewed (Zipf), with product text in
//! several languages and a share of malformed events.

pub mod catalogue;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

pub use catalogue::{Language, Product};

/// Why a generated event is bad, when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// Cut off mid-document: not JSON.
    NotJson,
    /// The product has neither name nor description.
    MissingText,
    /// `event_id` is not a UUID.
    BadId,
}

#[derive(Debug, Clone)]
pub struct Event {
    /// The Kafka key: the event id as text.
    pub key: String,
    /// The Kafka value.
    pub value: Vec<u8>,
    pub event_id: String,
    pub product: usize,
    pub malformed: Option<Malformation>,
}

pub struct Generator {
    rng: StdRng,
    pub products: Vec<Product>,
    /// Cumulative Zipf weights over `products`.
    popularity: Vec<f64>,
    malformed_rate: f64,
    clock: i64,
    sessions: u64,
    /// Products in catalogue order instead of by popularity (a stream of
    /// distinct texts, for benchmarks of the model rather than the cache).
    sequential: Option<usize>,
}

impl Generator {
    pub fn new(seed: u64, catalogue_size: usize, malformed_rate: f64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let products = catalogue::catalogue(&mut rng, catalogue_size);
        let mut total = 0.0;
        let popularity = (1..=products.len())
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.1);
                total
            })
            .collect();
        Self {
            rng,
            products,
            popularity,
            malformed_rate,
            clock: 1_705_314_600,
            sessions: 0,
            sequential: None,
        }
    }

    /// Every event names the next product of the catalogue.
    pub fn sequential(mut self) -> Self {
        self.sequential = Some(0);
        self
    }

    fn pick_product(&mut self) -> usize {
        if let Some(next) = self.sequential.as_mut() {
            let product = *next % self.products.len();
            *next += 1;
            return product;
        }
        let total = *self.popularity.last().unwrap_or(&1.0);
        let x = self.rng.random_range(0.0..total);
        self.popularity
            .partition_point(|c| *c < x)
            .min(self.products.len() - 1)
    }

    pub fn next_event(&mut self) -> Event {
        let product = self.pick_product();
        let event_type = match self.rng.random_range(0..100) {
            0..60 => "view",
            60..85 => "click",
            85..95 => "add_to_cart",
            _ => "purchase",
        };
        self.clock += self.rng.random_range(0..3);
        if self.rng.random_range(0..20) == 0 {
            self.sessions += 1;
        }
        let id = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        let malformed = (self.rng.random_range(0.0..1.0) < self.malformed_rate).then(|| match self
            .rng
            .random_range(0..3)
        {
            0 => Malformation::NotJson,
            1 => Malformation::MissingText,
            _ => Malformation::BadId,
        });
        let event_id = if malformed == Some(Malformation::BadId) {
            format!("evt-{}", self.rng.random_range(0..1_000_000))
        } else {
            id.to_string()
        };
        let mut product_json = self.products[product].to_json();
        if malformed == Some(Malformation::MissingText) {
            let obj = product_json.as_object_mut().unwrap();
            obj.remove("name");
            obj.remove("description");
        }
        let timestamp = format_time(self.clock);
        let value = json!({
            "event_id": event_id,
            "timestamp": timestamp,
            "user_id": format!("user{}", self.rng.random_range(1..5000)),
            "event_type": event_type,
            "product": product_json,
            "session_id": format!("session{}", self.sessions),
        })
        .to_string();
        let value = if malformed == Some(Malformation::NotJson) {
            value.as_bytes()[..value.len() / 2].to_vec()
        } else {
            value.into_bytes()
        };
        Event {
            key: event_id.clone(),
            value,
            event_id,
            product,
            malformed,
        }
    }
}

/// Seconds since the epoch as `2024-01-15T10:30:00Z`.
fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_realistic_and_reproducible() {
        let mut a = Generator::new(7, 200, 0.05);
        let mut b = Generator::new(7, 200, 0.05);
        let events: Vec<Event> = (0..2000).map(|_| a.next_event()).collect();
        assert_eq!(events[10].value, b.nth(10).value);
        let malformed = events.iter().filter(|e| e.malformed.is_some()).count();
        assert!((50..150).contains(&malformed), "{malformed}");
        // Skewed: the most popular product recurs far more than the median.
        let mut counts = vec![0; 200];
        for e in &events {
            counts[e.product] += 1;
        }
        assert!(counts[0] > 10 * counts[100].max(1));
        let good = events.iter().find(|e| e.malformed.is_none()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&good.value).unwrap();
        assert!(uuid::Uuid::parse_str(v["event_id"].as_str().unwrap()).is_ok());
        assert!(v["product"]["name"].is_string() && v["product"]["price"].is_number());
        assert_eq!(format_time(1_705_314_600), "2024-01-15T10:30:00Z");
        let languages: std::collections::HashSet<_> =
            a.products.iter().map(|p| p.language).collect();
        assert_eq!(languages.len(), 4);
    }

    impl Generator {
        fn nth(&mut self, n: usize) -> Event {
            (0..n).for_each(|_| {
                self.next_event();
            });
            self.next_event()
        }
    }
}
