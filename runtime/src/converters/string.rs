use connect_api::Data;

use super::{ConversionError, Converter};

/// `org.apache.kafka.connect.storage.StringConverter`: UTF-8 text; invalid
/// sequences are replaced, as Java's decoder does.
pub struct StringConverter;

impl Converter for StringConverter {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.storage.StringConverter"
    }
    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConversionError> {
        Ok(bytes.map_or(Data::Null, |b| {
            Data::Text(String::from_utf8_lossy(b).into_owned())
        }))
    }
}
