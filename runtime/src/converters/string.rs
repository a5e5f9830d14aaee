use connect_api::Data;

use super::{ConversionError, Converter, Origin};

/// `org.apache.kafka.connect.storage.StringConverter`: UTF-8 text; invalid
/// sequences are replaced, as Java's decoder does.
pub struct StringConverter;

impl Converter for StringConverter {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.storage.StringConverter"
    }
    fn to_connect(&self, _at: Origin<'_>, bytes: Option<&[u8]>) -> Result<Data, ConversionError> {
        Ok(bytes.map_or(Data::Null, |b| {
            Data::Text(String::from_utf8_lossy(b).into_owned())
        }))
    }
}

/// StringConverter's settings as Connect defines them (`StringConverterConfig`).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct StringConverterConfig {
    /// The name of the Java character set to use for encoding strings as byte arrays. This host decodes UTF-8 only, and refuses any other.
    #[schemars(rename = "converter.encoding", default = "utf8", extend("x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Encoding", "x-order" = -1))]
    encoding: String,
}

fn utf8() -> String {
    "UTF-8".into()
}
