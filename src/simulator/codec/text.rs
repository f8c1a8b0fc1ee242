//! The text codec (server versions ≤ 178): NUL-separated fields, the message id first.

use super::protobuf::DecodeError;
use super::{Outgoing, Request};

/// Decodes one text frame.
pub fn decode(frame: &[u8]) -> Result<Request, DecodeError> {
    let text = String::from_utf8_lossy(frame);
    let fields: Vec<&str> = text.split('\0').collect();
    let id: i32 = fields
        .first()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| DecodeError::Text {
            id: -1,
            reason: "missing message id".to_string(),
        })?;
    match id {
        71 => Ok(Request::StartApi {
            client_id: fields
                .get(2)
                .and_then(|f| f.parse().ok())
                .unwrap_or_default(),
        }),
        other => Ok(Request::Unknown { message_id: other }),
    }
}

/// Encodes one message; `None` when the text protocol has no such message.
pub fn encode(_version: i32, message: &Outgoing) -> Option<Vec<u8>> {
    let fields: Vec<String> = match message {
        Outgoing::ManagedAccounts(list) => vec!["15".into(), "1".into(), list.clone()],
        Outgoing::NextValidId(id) => vec!["9".into(), "1".into(), id.to_string()],
        Outgoing::Error {
            id, code, message, ..
        } => {
            vec![
                "4".into(),
                "2".into(),
                id.to_string(),
                code.to_string(),
                message.clone(),
            ]
        }
        _ => return None,
    };
    let mut out = Vec::new();
    for field in fields {
        out.extend_from_slice(field.as_bytes());
        out.push(0);
    }
    Some(out)
}
