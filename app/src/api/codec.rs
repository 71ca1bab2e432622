//! The server functions' answer encoding: JSON, decoded in the browser from text.
//!
//! server_fn's own `Json` decodes answers from bytes (`serde_json::from_slice`) while island
//! props are decoded from text (`from_str`); each reader builds its own copy of every
//! deserializer in the wasm. One reader for all of them keeps one copy.

use leptos::serde_json;
use leptos::server_fn::{codec::Post, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON in, JSON out, read as UTF-8 text.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        decode(&bytes)
    }
}

/// Text JSON from bytes; bytes that are not UTF-8 are a JSON error like any other.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| <serde_json::Error as serde::de::Error>::custom("the answer is not UTF-8 text"))?;
    serde_json::from_str(text)
}

/// Answers of server functions: `#[server(output = Json)]`.
pub type Json = Post<JsonText>;
