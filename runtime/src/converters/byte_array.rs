use bytes::Bytes;
use connect_api::Data;

use super::{ConversionError, Converter, Origin};

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes untouched.
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.converters.ByteArrayConverter"
    }
    fn to_connect(&self, _at: Origin<'_>, bytes: Option<&[u8]>) -> Result<Data, ConversionError> {
        Ok(bytes.map_or(Data::Null, |b| Data::Bytes(Bytes::copy_from_slice(b))))
    }
}
