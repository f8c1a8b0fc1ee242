//! Framing on the socket: the `API\0` handshake, then 4-byte big-endian length-prefixed frames.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame the simulator accepts (IB's own limit is 16 MB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// What a client offered in its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Lowest version the client speaks.
    pub min: i32,
    /// Highest version the client speaks.
    pub max: i32,
    /// Connect options after the range (e.g. "+PACEAPI"), possibly empty.
    pub options: String,
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The socket failed or closed.
    #[error("socket error during the handshake: {0}")]
    Io(#[from] io::Error),
    /// The client did not start with `API\0`.
    #[error("the client did not send the API\\0 prefix (got {0:?})")]
    Prefix([u8; 4]),
    /// The version text is malformed.
    #[error("malformed version offer {0:?}: expected \"v<min>..<max>\"")]
    Offer(String),
}

/// Reads `API\0` and the version offer.
pub async fn read_handshake<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Offer, HandshakeError> {
    let mut prefix = [0u8; 4];
    reader.read_exact(&mut prefix).await?;
    if &prefix != b"API\0" {
        return Err(HandshakeError::Prefix(prefix));
    }
    let body = read_frame(reader)
        .await?
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let text = String::from_utf8_lossy(&body)
        .trim_end_matches('\0')
        .to_string();
    parse_offer(&text).ok_or(HandshakeError::Offer(text))
}

/// Parses `v100..187` or `v100..187 +PACEAPI`, also a single `v178`.
pub fn parse_offer(text: &str) -> Option<Offer> {
    let text = text.trim();
    let rest = text.strip_prefix('v')?;
    let (range, options) = match rest.split_once(' ') {
        Some((range, options)) => (range, options.trim().to_string()),
        None => (rest, String::new()),
    };
    let (min, max) = match range.split_once("..") {
        Some((min, max)) => (min.parse().ok()?, max.parse().ok()?),
        None => {
            let v = range.parse().ok()?;
            (v, v)
        }
    };
    Some(Offer { min, max, options })
}

/// Reads one length-prefixed frame; `None` on a clean end of stream before a frame starts.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit"),
        ));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Appends `body` with its length prefix to `out`.
pub fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

/// Writes one frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, body: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(body.len() + 4);
    put_frame(&mut out, body);
    writer.write_all(&out).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offers() {
        assert_eq!(
            parse_offer("v213..226"),
            Some(Offer {
                min: 213,
                max: 226,
                options: String::new()
            })
        );
        assert_eq!(
            parse_offer("v157..178 +PACEAPI").map(|o| o.options),
            Some("+PACEAPI".into())
        );
        assert_eq!(
            parse_offer("v176").map(|o| (o.min, o.max)),
            Some((176, 176))
        );
        assert_eq!(parse_offer("213..226"), None);
        assert_eq!(parse_offer("vabc..1"), None);
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let mut buf = Vec::new();
        put_frame(&mut buf, b"hello");
        let mut reader = &buf[..];
        assert_eq!(
            read_frame(&mut reader).await.expect("io").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(read_frame(&mut reader).await.expect("io"), None);
    }
}
