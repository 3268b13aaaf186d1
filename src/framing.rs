//! Message framing over a TCP byte stream: the course's two fixes for "sticky packets".
//!
//! TCP delivers a stream of bytes, not messages: two `send()`s can arrive in one `recv()`,
//! and one `send()` can arrive split over many. The receiver therefore needs to know where
//! each message ends. The course shows two ways, both implemented here:
//!
//! 1. **Length header** ([`Format::LengthHeader`]): a 4-byte header holding the payload
//!    length, then the payload.
//! 2. **JSON header** ([`Format::JsonHeader`]): a 4-byte header holding the length of a
//!    JSON object such as `{"filename": "a.txt", "total_size": 1234, "md5": "<32 hex>"}`,
//!    then that object, then `total_size` bytes of payload whose MD5 must match. netlab writes
//!    the JSON as the course's `json.dumps(header_dic)` does; it reads any valid JSON object
//!    (spacing, key order, escapes, extra keys), except one that repeats a key.
//!
//! # The 4-byte header
//!
//! The course writes it with Python's `struct.pack('i', n)`: a signed 32-bit integer in the
//! machine's *native* byte order, which on x86-64 is little-endian. netlab fixes
//! little-endian explicitly so its frames match what the course's scripts produce on a
//! usual PC. The portable choice would be `struct.pack('!I', n)`: unsigned, network
//! (big-endian) byte order, the same on every machine.
//!
//! # Decoding
//!
//! [`FrameDecoder`] follows the shape of mini-redis's `Connection::read_frame`: keep a
//! buffer, try to parse one whole frame from it, and otherwise ask for more bytes.
//! [`read_frame`] is the one read loop built on it, sized like the course's `recv()` calls.

use std::fmt;
use std::io;

use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The largest payload a decoder accepts by default: 64 MiB.
///
/// A peer controls the header, so without a limit one 4-byte header could make the
/// receiver wait for (and buffer) up to 2 GiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024 * 1024;

/// The largest JSON header a decoder accepts: 64 KiB. A real header is under 200 bytes (a
/// name, a size, an MD5); the limit is checked against the announced length, before a byte
/// of the JSON is buffered or parsed.
pub const HEADER_LIMIT: usize = 64 * 1024;

/// Size of the length header in both formats: one Python `'i'`, a signed 32-bit integer.
pub const HEADER_LEN: usize = 4;

/// Largest length the signed 32-bit header can carry.
const HEADER_MAX: usize = i32::MAX as usize;

/// The error for a length that does not fit the signed 32-bit header (more than 2 GiB - 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderOverflow {
    /// The length that was too big.
    pub len: usize,
}

impl fmt::Display for HeaderOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a length of {} bytes does not fit in the signed 32-bit 'i' header, whose maximum is {HEADER_MAX}",
            self.len
        )
    }
}

impl std::error::Error for HeaderOverflow {}

/// The 4-byte header for a length of `n` bytes, as Python's `struct.pack('i', n)` on x86-64.
///
/// Fails instead of wrapping when `n` is over `i32::MAX`, since the receiver would read a
/// wrapped value as a negative or wrong size.
pub fn length_header(n: usize) -> Result<[u8; HEADER_LEN], HeaderOverflow> {
    i32::try_from(n)
        .map(i32::to_le_bytes)
        .map_err(|_| HeaderOverflow { len: n })
}

/// A whole length-header frame: the 4-byte header, then `payload`.
pub fn encode_length_frame(payload: &[u8]) -> Result<Vec<u8>, HeaderOverflow> {
    let header = length_header(payload.len())?;
    Ok([&header[..], payload].concat())
}

/// A whole JSON-header frame: the 4-byte length of the JSON, the JSON, then `payload`.
///
/// The JSON's `total_size` and `md5` describe `payload`; only the JSON's own length has to
/// fit the 4-byte header.
pub fn encode_json_frame(filename: &str, payload: &[u8]) -> Result<Vec<u8>, HeaderOverflow> {
    let json = JsonHeader::for_payload(filename, payload).to_json();
    let header = length_header(json.len())?;
    Ok([&header[..], json.as_bytes(), payload].concat())
}

/// The MD5 of `data` as 32 lowercase hex digits, like Python's `hashlib.md5(data).hexdigest()`.
pub fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

/// The JSON object that describes a file in the "fix two" format.
///
/// `filename` comes from the peer: a receiver that writes files must sanitise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonHeader {
    pub filename: String,
    pub total_size: u64,
    pub md5: String,
}

impl JsonHeader {
    /// The header that truthfully describes `payload`.
    pub fn for_payload(filename: &str, payload: &[u8]) -> Self {
        JsonHeader {
            filename: filename.to_owned(),
            total_size: payload.len() as u64,
            md5: md5_hex(payload),
        }
    }

    /// The JSON the course's `json.dumps(header_dic)` writes for this header: keys in the
    /// course's order (filename, total_size, md5), Python's default separators `', '` and
    /// `': '`, and non-ASCII characters escaped (`ensure_ascii`).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"filename\": {}, \"total_size\": {}, \"md5\": {}}}",
            python_json_string(&self.filename),
            self.total_size,
            python_json_string(&self.md5)
        )
    }

    /// Parses and checks a received header; `limit` caps `total_size`. `strict`: every field
    /// is required and md5 must be 32 hex digits; otherwise only total_size is (see
    /// [`FrameDecoder::reading_like_the_course`]).
    fn parse(bytes: &[u8], limit: usize, strict: bool) -> Result<Self, FrameError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| FrameError::InvalidJson(format!("its bytes are not UTF-8 ({e})")))?;
        let wire: WireHeader<'_> =
            serde_json::from_str(text).map_err(|e| FrameError::InvalidJson(e.to_string()))?;
        if !strict {
            let total_size: u64 =
                typed_field("total_size", wire.total_size, "a non-negative integer")?;
            if total_size > limit as u64 {
                return Err(FrameError::TooLarge {
                    announced: total_size,
                    limit,
                });
            }
            let text_or_empty = |raw: Option<&RawValue>| {
                raw.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                    .unwrap_or_default()
            };
            return Ok(JsonHeader {
                filename: text_or_empty(wire.filename),
                total_size,
                md5: text_or_empty(wire.md5),
            });
        }
        let filename: String = typed_field("filename", wire.filename, "a string")?;
        let total_size: u64 = typed_field("total_size", wire.total_size, "a non-negative integer")?;
        if total_size > limit as u64 {
            return Err(FrameError::TooLarge {
                announced: total_size,
                limit,
            });
        }
        let md5: String = typed_field("md5", wire.md5, "a string")?;
        if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad_field("md5", "32 hex digits", wire.md5));
        }
        Ok(JsonHeader {
            filename,
            total_size,
            md5: md5.to_ascii_lowercase(),
        })
    }
}

/// A received JSON header as the decoder reads it: the object's three fields, each kept as
/// the raw JSON text of its value (borrowed from the received bytes) until it is checked for
/// its own type, so a wrong one is reported by name with what it was. Other keys are skipped
/// without being stored; a key given twice is refused.
#[derive(Deserialize)]
struct WireHeader<'a> {
    #[serde(borrow)]
    filename: Option<&'a RawValue>,
    #[serde(borrow)]
    total_size: Option<&'a RawValue>,
    #[serde(borrow)]
    md5: Option<&'a RawValue>,
}

/// A field of the header as type `T`: missing, or of the wrong JSON type, is an error that
/// names the field.
fn typed_field<'a, T: Deserialize<'a>>(
    name: &'static str,
    raw: Option<&'a RawValue>,
    expected: &'static str,
) -> Result<T, FrameError> {
    let raw = raw.ok_or(FrameError::MissingField(name))?;
    serde_json::from_str(raw.get()).map_err(|_| bad_field(name, expected, Some(raw)))
}

/// How much of a wrong value an error message quotes.
const FOUND_SHOWN: usize = 64;

fn bad_field(field: &'static str, expected: &'static str, found: Option<&RawValue>) -> FrameError {
    let text = found.map_or("", RawValue::get).trim();
    let found = match text.char_indices().nth(FOUND_SHOWN) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    };
    FrameError::BadField {
        field,
        expected,
        found,
    }
}

/// A JSON string as Python's `json.dumps` writes it with its defaults (`ensure_ascii=True`):
/// `"` and `\` escaped, `\n \r \t \b \f` by name, every other character outside printable
/// ASCII as `\u` and four lowercase hex digits (a surrogate pair above U+FFFF).
pub fn python_json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// Which of the two wire formats a decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 4-byte length, then the payload ("fix one").
    LengthHeader,
    /// 4-byte length, then a JSON header, then the payload ("fix two").
    JsonHeader,
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The JSON header; `Some` exactly when the format is [`Format::JsonHeader`].
    pub header: Option<JsonHeader>,
    pub payload: Vec<u8>,
}

/// What one [`FrameDecoder::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The current piece is not complete yet: feed more bytes.
    NeedMore,
    /// The 4-byte header was decoded: `len` is the payload length ([`Format::LengthHeader`])
    /// or the JSON header's length ([`Format::JsonHeader`]).
    Length { len: usize },
    /// The JSON header was decoded and checked; its payload comes next.
    Json(JsonHeader),
    /// A whole frame (payload checked against the header's MD5, if any).
    Frame(Frame),
}

/// The part of a frame a decoder is reading now, for trace notes and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// The 4-byte length header (both formats start with it).
    LengthHeader,
    /// The JSON header, `len` bytes long as announced by the length header.
    JsonHeader { len: usize },
    /// The payload, `total` bytes long as announced by its header.
    Payload { total: usize },
}

impl Piece {
    /// How many bytes this piece is in full.
    pub fn len(self) -> usize {
        match self {
            Piece::LengthHeader => HEADER_LEN,
            Piece::JsonHeader { len } => len,
            Piece::Payload { total } => total,
        }
    }

    /// True for a zero-length piece (an empty payload).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// A short name: "length header", "JSON header" or "payload".
    pub fn name(self) -> &'static str {
        match self {
            Piece::LengthHeader => "length header",
            Piece::JsonHeader { .. } => "JSON header",
            Piece::Payload { .. } => "payload",
        }
    }
}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-byte {}", self.len(), self.name())
    }
}

/// What was wrong with the bytes a peer sent.
///
/// After a decoder returns one, it keeps returning it: the stream has lost its frame
/// boundaries and the connection should be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A header announced a payload bigger than the decoder's limit.
    TooLarge { announced: u64, limit: usize },
    /// The length header announced a JSON header bigger than the JSON header limit.
    HeaderTooLarge { announced: u64, limit: usize },
    /// The signed 32-bit length header decoded to a negative number.
    NegativeSize { announced: i32 },
    /// The peer closed the connection with part of a piece buffered.
    ClosedMidMessage {
        piece: Piece,
        have: usize,
        need: usize,
    },
    /// The JSON header is not UTF-8, not JSON, or not a JSON object.
    InvalidJson(String),
    /// The JSON header lacks a required field.
    MissingField(&'static str),
    /// A JSON header field has the wrong type or form.
    BadField {
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    /// The payload's MD5 differs from the one in its JSON header.
    Md5Mismatch { expected: String, actual: String },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { announced, limit } => write!(
                f,
                "a header announced {announced} bytes, which is over the limit of {limit} bytes"
            ),
            FrameError::HeaderTooLarge { announced, limit } => write!(
                f,
                "the length header announced a JSON header of {announced} bytes, which is over the limit of {limit} bytes for a JSON header"
            ),
            FrameError::NegativeSize { announced } => write!(
                f,
                "the length header decoded to {announced} as a signed 32-bit 'i', and a size cannot be negative"
            ),
            FrameError::ClosedMidMessage { piece, have, need } => write!(
                f,
                "the peer closed the connection after {have} of the {need} bytes of the {}",
                piece.name()
            ),
            FrameError::InvalidJson(why) => {
                write!(f, "the JSON header is not a valid JSON object: {why}")
            }
            FrameError::MissingField(name) => {
                write!(f, "the JSON header has no \"{name}\" field")
            }
            FrameError::BadField {
                field,
                expected,
                found,
            } => write!(
                f,
                "the JSON header field \"{field}\" should be {expected} but is {found}"
            ),
            FrameError::Md5Mismatch { expected, actual } => write!(
                f,
                "the payload's MD5 is {actual} but the JSON header promised {expected}"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// Incremental decoder: feed it whatever bytes arrived, in any split, and ask it for whole
/// frames.
///
/// Memory follows the bytes actually fed, never a size a header announced: a header over
/// the limit is rejected before anything of that size is reserved.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    format: Format,
    limit: usize,
    /// The largest JSON header accepted: [`HEADER_LIMIT`], or `limit` if that is smaller.
    header_limit: usize,
    buf: Vec<u8>,
    /// The piece being read; `buf` starts with its first byte.
    piece: Piece,
    /// The JSON header already parsed for the payload being read.
    header: Option<JsonHeader>,
    /// Whether a JSON header must have every field in its exact form.
    strict: bool,
}

impl FrameDecoder {
    /// A decoder with the [`DEFAULT_LIMIT`].
    pub fn new(format: Format) -> Self {
        Self::with_limit(format, DEFAULT_LIMIT)
    }

    /// A decoder that rejects payloads over `limit` bytes, and JSON headers over `limit` or
    /// [`HEADER_LIMIT`] bytes, whichever is smaller.
    pub fn with_limit(format: Format, limit: usize) -> Self {
        FrameDecoder {
            format,
            limit,
            header_limit: limit.min(HEADER_LIMIT),
            buf: Vec::new(),
            piece: Piece::LengthHeader,
            header: None,
            strict: true,
        }
    }

    /// Reads a JSON header as the course's client does: only `total_size` is required.
    /// `filename` and `md5` may be missing (read as empty) or of another form (the course's
    /// server sends the placeholder `'12345678'`), and a payload is checked against `md5` only
    /// when that is 32 hex digits. For netlab talking to a program it did not write.
    pub fn reading_like_the_course(mut self) -> Self {
        self.strict = false;
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The largest payload accepted.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The largest JSON header accepted.
    pub fn header_limit(&self) -> usize {
        self.header_limit
    }

    /// Appends bytes that arrived from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `Ok(Some(frame))` when a whole frame is buffered (and consumes it), `Ok(None)` when
    /// more bytes are needed, `Err` when the bytes break the format.
    ///
    /// An error consumes nothing, so calling again gives the same error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        loop {
            match self.step()? {
                Step::NeedMore => return Ok(None),
                Step::Frame(frame) => return Ok(Some(frame)),
                Step::Length { .. } | Step::Json(_) => {}
            }
        }
    }

    /// Decodes at most one piece: the same work as [`next_frame`](Self::next_frame), one
    /// piece at a time, so a reader can show each header as soon as it is decoded.
    ///
    /// An error consumes nothing, so calling again gives the same error.
    pub fn step(&mut self) -> Result<Step, FrameError> {
        if self.buf.len() < self.piece.len() {
            return Ok(Step::NeedMore);
        }
        match self.piece {
            Piece::LengthHeader => {
                self.piece = self.take_length()?;
                Ok(Step::Length {
                    len: self.piece.len(),
                })
            }
            Piece::JsonHeader { len } => {
                let header = JsonHeader::parse(&self.buf[..len], self.limit, self.strict)?;
                self.buf.drain(..len);
                // `parse` checked total_size against the limit, which is a usize.
                let total = usize::try_from(header.total_size).unwrap_or(usize::MAX);
                self.header = Some(header.clone());
                self.piece = Piece::Payload { total };
                Ok(Step::Json(header))
            }
            Piece::Payload { total } => self.take_payload(total).map(Step::Frame),
        }
    }

    /// Consumes the 4-byte header and returns the piece it announces.
    fn take_length(&mut self) -> Result<Piece, FrameError> {
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&self.buf[..HEADER_LEN]);
        let announced = i32::from_le_bytes(header);
        let len = usize::try_from(announced).map_err(|_| FrameError::NegativeSize { announced })?;
        match self.format {
            Format::JsonHeader if len > self.header_limit => {
                return Err(FrameError::HeaderTooLarge {
                    announced: len as u64,
                    limit: self.header_limit,
                })
            }
            Format::LengthHeader if len > self.limit => {
                return Err(FrameError::TooLarge {
                    announced: len as u64,
                    limit: self.limit,
                })
            }
            _ => {}
        }
        self.buf.drain(..HEADER_LEN);
        Ok(match self.format {
            Format::LengthHeader => Piece::Payload { total: len },
            Format::JsonHeader => Piece::JsonHeader { len },
        })
    }

    /// Checks and consumes a fully buffered payload.
    fn take_payload(&mut self, total: usize) -> Result<Frame, FrameError> {
        if let Some(header) = &self.header {
            let checkable =
                header.md5.len() == 32 && header.md5.bytes().all(|b| b.is_ascii_hexdigit());
            let actual = md5_hex(&self.buf[..total]);
            if (self.strict || checkable) && actual != header.md5.to_ascii_lowercase() {
                return Err(FrameError::Md5Mismatch {
                    expected: header.md5.clone(),
                    actual,
                });
            }
        }
        let payload = self.buf.drain(..total).collect();
        self.piece = Piece::LengthHeader;
        Ok(Frame {
            header: self.header.take(),
            payload,
        })
    }

    /// How many more bytes the current piece needs: up to 4 for the length header, then
    /// the rest of the JSON header or payload. Never more than the limit (or 4).
    ///
    /// 0 means the piece is complete and [`next_frame`](Self::next_frame) can go on.
    pub fn wanted(&self) -> usize {
        self.piece.len().saturating_sub(self.buf.len())
    }

    /// What is being read now.
    pub fn piece(&self) -> Piece {
        self.piece
    }

    /// Bytes fed but not yet returned in a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Called when the peer closed (`recv` returned `b''`): `Ok(())` at a frame boundary
    /// with nothing buffered, else [`FrameError::ClosedMidMessage`].
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.piece == Piece::LengthHeader && self.buf.is_empty() {
            return Ok(());
        }
        Err(FrameError::ClosedMidMessage {
            piece: self.piece,
            have: self.buf.len(),
            need: self.piece.len(),
        })
    }
}

/// A byte source that reads like a Python socket's `recv(max)`: up to `max` bytes, and an
/// empty `Vec` when the peer has closed.
///
/// The two provided methods let a source show what [`read_frame`] is doing (a traced socket
/// names its variables as the course does); plain sources ignore them.
pub trait RecvSource {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>>;

    /// A `recv` for a piece of a frame, `have` bytes of which are already buffered.
    fn recv_piece(&mut self, piece: Piece, have: usize, max: usize) -> io::Result<Vec<u8>> {
        let _ = (piece, have);
        self.recv(max)
    }

    /// Called by [`read_frame`] each time the decoder completed a piece: a header (as
    /// [`Step::Length`] or [`Step::Json`]) or a whole frame ([`Step::Frame`]).
    fn decoded(&mut self, format: Format, step: &Step) {
        let _ = (format, step);
    }
}

/// Why reading a frame failed: the socket itself, or the bytes it delivered.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    Frame(FrameError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "reading from the socket failed: {e}"),
            ReadError::Frame(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            ReadError::Frame(e) => Some(e),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<FrameError> for ReadError {
    fn from(e: FrameError) -> Self {
        ReadError::Frame(e)
    }
}

/// Reads one whole frame: `Ok(None)` when the peer closed cleanly between frames.
///
/// Each `recv` asks for `min(decoder.wanted(), chunk)` bytes, like the course's
/// `recv(4)` for the header and then `recv(1024)` at most, so it never reads into the next
/// frame. `chunk` is that recv size (the course uses 1024).
pub fn read_frame(
    src: &mut impl RecvSource,
    decoder: &mut FrameDecoder,
    chunk: usize,
) -> Result<Option<Frame>, ReadError> {
    loop {
        let step = decoder.step()?;
        match step {
            Step::NeedMore => {
                let max = decoder.wanted().min(chunk).max(1);
                let bytes = src.recv_piece(decoder.piece(), decoder.buffered(), max)?;
                if bytes.is_empty() {
                    decoder.finish()?;
                    return Ok(None);
                }
                decoder.feed(&bytes);
            }
            step => {
                src.decoded(decoder.format(), &step);
                if let Step::Frame(frame) = step {
                    return Ok(Some(frame));
                }
            }
        }
    }
}

/// Reads exactly `n` bytes in `recv` calls of at most `chunk` bytes, for lab code that shows
/// a header on its own. A peer that closes early gives an `UnexpectedEof` I/O error.
pub fn read_exact(src: &mut impl RecvSource, n: usize, chunk: usize) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    while out.len() < n {
        let bytes = src.recv((n - out.len()).min(chunk).max(1))?;
        if bytes.is_empty() {
            return Err(ReadError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the peer closed the connection after {} of {n} bytes",
                    out.len()
                ),
            )));
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}
