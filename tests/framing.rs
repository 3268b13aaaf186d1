use netlab::framing::*;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------------------
// An allocator that remembers the largest single allocation made on each thread, so a
// test can prove a huge announced size is rejected without reserving that size.

struct TrackLargest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note_size(size: usize) {
    // try_with: the thread-local may already be gone while a thread shuts down.
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

unsafe impl GlobalAlloc for TrackLargest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_size(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_size(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_size(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: TrackLargest = TrackLargest;

/// Runs `f` and returns the largest single allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|largest| largest.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

// ---------------------------------------------------------------------------
// Fake sockets.

/// Delivers `data` like a socket: each recv returns at most `max` bytes and at most the
/// next size in `caps` (cycled), then `b""` once the data is used up. Records each `max`.
struct FakeSocket {
    data: Vec<u8>,
    pos: usize,
    caps: Vec<usize>,
    calls: usize,
    asked: Vec<usize>,
}

impl FakeSocket {
    fn new(data: Vec<u8>) -> Self {
        Self::scripted(data, vec![usize::MAX])
    }

    fn scripted(data: Vec<u8>, caps: Vec<usize>) -> Self {
        FakeSocket {
            data,
            pos: 0,
            caps,
            calls: 0,
            asked: Vec::new(),
        }
    }
}

impl RecvSource for FakeSocket {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>> {
        self.asked.push(max);
        let cap = self.caps[self.calls % self.caps.len()];
        self.calls += 1;
        let n = max.min(cap).min(self.data.len() - self.pos);
        let out = self.data[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(out)
    }
}

struct ResetSocket;

impl RecvSource for ResetSocket {
    fn recv(&mut self, _max: usize) -> io::Result<Vec<u8>> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ))
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// A JSON-header frame whose header is given as raw bytes, for malformed-header tests.
fn raw_json_frame(json: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut frame = length_header(json.len()).unwrap().to_vec();
    frame.extend_from_slice(json);
    frame.extend_from_slice(payload);
    frame
}

/// Feeds `bytes` to a fresh decoder and returns its first result.
fn decode_one(format: Format, bytes: &[u8]) -> Result<Option<Frame>, FrameError> {
    let mut decoder = FrameDecoder::new(format);
    decoder.feed(bytes);
    decoder.next_frame()
}

fn payload_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

// ---------------------------------------------------------------------------
// Encoding.

#[test]
fn length_header_is_little_endian_signed_32_bit() {
    assert_eq!(length_header(1), Ok([1, 0, 0, 0]));
    assert_eq!(length_header(0x0102_0304), Ok([4, 3, 2, 1]));
    assert_eq!(
        length_header(i32::MAX as usize),
        Ok([0xff, 0xff, 0xff, 0x7f])
    );
    let too_big = i32::MAX as usize + 1;
    assert_eq!(length_header(too_big), Err(HeaderOverflow { len: too_big }));
}

#[test]
fn encode_length_frame_is_header_then_payload() {
    assert_eq!(encode_length_frame(b"hello").unwrap(), b"\x05\0\0\0hello");
    assert_eq!(encode_length_frame(b"").unwrap(), [0, 0, 0, 0]);
}

#[test]
fn md5_hex_matches_known_digests() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
}

#[test]
fn json_header_is_python_json_dumps_in_course_key_order() {
    let header = JsonHeader::for_payload("a.txt", b"abc");
    assert_eq!(header.total_size, 3);
    assert_eq!(
        header.to_json(),
        r#"{"filename": "a.txt", "total_size": 3, "md5": "900150983cd24fb0d6963f7d28e17f72"}"#
    );
    let quoted = JsonHeader::for_payload("say \"hi\".txt", b"");
    assert!(quoted
        .to_json()
        .starts_with(r#"{"filename": "say \"hi\".txt", "#));
    // ensure_ascii: what is not printable ASCII becomes \uXXXX (a surrogate pair above U+FFFF).
    assert_eq!(
        python_json_string("报告\t\u{1}\u{7f}😀\\"),
        r#""\u62a5\u544a\t\u0001\u007f\ud83d\ude00\\""#
    );
}

/// The encoder against python3's own `json.dumps(header_dic)` for the same dicts, when
/// python3 is present: the bytes a trace shows are the bytes the course's server would send.
#[test]
fn json_header_bytes_equal_python3_json_dumps() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let names = [
        "output.txt",
        "report.txt",
        "say \"hi\".txt",
        "back\\slash",
        "tab\there\nnewline\r\u{8}\u{c}",
        "ctrl\u{1}\u{1f}\u{7f}",
        "报告.txt",
        "emoji 😀.png",
        "",
    ];
    let headers: Vec<JsonHeader> = names
        .iter()
        .enumerate()
        .map(|(i, name)| JsonHeader::for_payload(name, &payload_of(i * 1000)))
        .collect();
    let input: Vec<serde_json::Value> = headers
        .iter()
        .map(|h| serde_json::json!([h.filename, h.total_size, h.md5]))
        .collect();
    let script = "import json, sys\n\
        for name, size, md5 in json.load(sys.stdin):\n\
        \x20   header_dic = {'filename': name, 'total_size': size, 'md5': md5}\n\
        \x20   print(json.dumps(header_dic))\n";
    let Ok(mut child) = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        println!("python3 not found: JSON header not compared with json.dumps");
        return;
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::Value::from(input).to_string().as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let python = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = python.lines().collect();
    assert_eq!(lines.len(), headers.len());
    for (i, (header, line)) in headers.iter().zip(lines).enumerate() {
        assert_eq!(header.to_json(), line, "{:?}", header.filename);
        let frame = raw_json_frame(line.as_bytes(), &payload_of(i * 1000));
        let decoded = decode_one(Format::JsonHeader, &frame).unwrap().unwrap();
        assert_eq!(decoded.header.as_ref(), Some(header));
    }
}

#[test]
fn encode_json_frame_is_length_json_payload() {
    let frame = encode_json_frame("a.txt", b"abc").unwrap();
    let json = JsonHeader::for_payload("a.txt", b"abc").to_json();
    assert_eq!(frame[..4], length_header(json.len()).unwrap());
    assert_eq!(&frame[4..4 + json.len()], json.as_bytes());
    assert_eq!(&frame[4 + json.len()..], b"abc");
}

// ---------------------------------------------------------------------------
// Round trips.

#[test]
fn length_frame_round_trip() {
    let payload = payload_of(2500);
    let frame = decode_one(
        Format::LengthHeader,
        &encode_length_frame(&payload).unwrap(),
    );
    assert_eq!(
        frame,
        Ok(Some(Frame {
            header: None,
            payload
        }))
    );
}

#[test]
fn json_frame_round_trip() {
    let payload = payload_of(2500);
    let bytes = encode_json_frame("report.pdf", &payload).unwrap();
    let frame = decode_one(Format::JsonHeader, &bytes).unwrap().unwrap();
    assert_eq!(
        frame.header,
        Some(JsonHeader::for_payload("report.pdf", &payload))
    );
    assert_eq!(frame.payload, payload);
}

#[test]
fn empty_payload_round_trips_in_both_formats() {
    let frame = decode_one(Format::LengthHeader, &encode_length_frame(b"").unwrap());
    assert_eq!(frame.unwrap().unwrap().payload, b"");
    let frame = decode_one(Format::JsonHeader, &encode_json_frame("e", b"").unwrap());
    assert_eq!(frame.unwrap().unwrap().header.unwrap().total_size, 0);
}

#[test]
fn sticky_packets_in_one_feed_come_out_as_separate_frames() {
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let mut stream = encode_length_frame(b"hello").unwrap();
    stream.extend(encode_length_frame(b"world!").unwrap());
    stream.extend(&encode_length_frame(b"tail").unwrap()[..6]);
    decoder.feed(&stream);
    assert_eq!(decoder.next_frame().unwrap().unwrap().payload, b"hello");
    assert_eq!(decoder.next_frame().unwrap().unwrap().payload, b"world!");
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.buffered(), 2);
    assert_eq!(decoder.wanted(), 2);
}

#[test]
fn json_header_accepts_python_spacing_extra_keys_and_uppercase_md5() {
    let json = br#"{"filename": "a.txt", "total_size": 3, "md5": "900150983CD24FB0D6963F7D28E17F72", "mode": 420}"#;
    let frame = decode_one(Format::JsonHeader, &raw_json_frame(json, b"abc"))
        .unwrap()
        .unwrap();
    assert_eq!(frame.payload, b"abc");
    assert_eq!(
        frame.header.unwrap().md5,
        "900150983cd24fb0d6963f7d28e17f72"
    );
}

// ---------------------------------------------------------------------------
// One test per error.

#[test]
fn too_large_is_detected_from_the_header_without_allocating() {
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    decoder.feed(&[0xff, 0xff, 0xff, 0x7f]);
    let (result, largest) = largest_allocation(|| decoder.next_frame());
    assert_eq!(
        result,
        Err(FrameError::TooLarge {
            announced: 0x7fff_ffff,
            limit: DEFAULT_LIMIT
        })
    );
    assert!(largest < 4096, "largest allocation was {largest} bytes");
    assert_eq!(decoder.buffered(), 4, "an error consumes nothing");
}

#[test]
fn too_large_json_header_length_and_total_size() {
    let mut decoder = FrameDecoder::with_limit(Format::JsonHeader, 100);
    decoder.feed(&length_header(101).unwrap());
    assert_eq!(
        decoder.next_frame(),
        Err(FrameError::HeaderTooLarge {
            announced: 101,
            limit: 100
        })
    );

    let json =
        br#"{"filename":"big","total_size":2147483647,"md5":"d41d8cd98f00b204e9800998ecf8427e"}"#;
    let (result, largest) =
        largest_allocation(|| decode_one(Format::JsonHeader, &raw_json_frame(json, b"")));
    assert_eq!(
        result,
        Err(FrameError::TooLarge {
            announced: 2_147_483_647,
            limit: DEFAULT_LIMIT
        })
    );
    assert!(
        largest < 64 * 1024,
        "largest allocation was {largest} bytes"
    );
}

/// A peer announces a 64 MiB JSON header (within the payload limit) and really sends it: the
/// decoder refuses it from the 4-byte length alone, reads nothing more, and never allocates
/// anything near that size.
#[test]
fn a_64_mib_json_header_is_refused_before_a_byte_of_it_is_buffered() {
    const ANNOUNCED: usize = 64 * 1024 * 1024;
    let mut json = br#"{"filename": ""#.to_vec();
    json.resize(ANNOUNCED - 3, b'x');
    json.extend_from_slice(b"\"}\n");
    assert_eq!(json.len(), ANNOUNCED);
    let mut socket = FakeSocket::new(raw_json_frame(&json, b""));
    drop(json);
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    let (result, largest) = largest_allocation(|| read_frame(&mut socket, &mut decoder, 1024));
    let Err(ReadError::Frame(err)) = result else {
        panic!("expected a frame error, got {result:?}");
    };
    assert_eq!(
        err,
        FrameError::HeaderTooLarge {
            announced: ANNOUNCED as u64,
            limit: HEADER_LIMIT
        }
    );
    assert_eq!(socket.pos, 4, "only the length header was read");
    assert!(largest < 4096, "largest allocation was {largest} bytes");
}

/// A JSON header just under the limit is read and parsed, into the typed header, with memory
/// of the order of its own size.
#[test]
fn a_json_header_just_under_the_limit_parses_in_little_memory() {
    let name = "n".repeat(HEADER_LIMIT - 100);
    let header = JsonHeader::for_payload(&name, b"abc");
    let json = header.to_json();
    assert!(json.len() <= HEADER_LIMIT && json.len() > HEADER_LIMIT - 100);
    let frame = raw_json_frame(json.as_bytes(), b"abc");
    let (result, largest) = largest_allocation(|| decode_one(Format::JsonHeader, &frame));
    assert_eq!(result.unwrap().unwrap().header, Some(header));
    assert!(
        largest <= 4 * HEADER_LIMIT,
        "largest allocation was {largest} bytes"
    );
}

#[test]
fn three_gigabytes_as_unsigned_is_negative_as_signed() {
    // 0xC000_0000 = 3 GiB read as an unsigned u32, but Python's 'i' is signed.
    for format in [Format::LengthHeader, Format::JsonHeader] {
        assert_eq!(
            decode_one(format, &[0x00, 0x00, 0x00, 0xc0]),
            Err(FrameError::NegativeSize {
                announced: -1_073_741_824
            })
        );
        assert_eq!(
            decode_one(format, &[0xff, 0xff, 0xff, 0xff]),
            Err(FrameError::NegativeSize { announced: -1 })
        );
        assert!(matches!(
            decode_one(format, &[0xff, 0xff, 0xff, 0x7f]),
            Err(FrameError::TooLarge {
                announced: 0x7fff_ffff,
                ..
            } | FrameError::HeaderTooLarge {
                announced: 0x7fff_ffff,
                ..
            })
        ));
    }
}

#[test]
fn truncated_header_then_close() {
    let header = length_header(10).unwrap();
    for have in 0..HEADER_LEN {
        let mut decoder = FrameDecoder::new(Format::LengthHeader);
        decoder.feed(&header[..have]);
        assert_eq!(decoder.next_frame(), Ok(None));
        let expected = if have == 0 {
            Ok(())
        } else {
            Err(FrameError::ClosedMidMessage {
                piece: Piece::LengthHeader,
                have,
                need: 4,
            })
        };
        assert_eq!(decoder.finish(), expected, "after {have} header bytes");
    }
}

#[test]
fn closed_mid_payload_and_mid_json_header() {
    let frame = encode_length_frame(&payload_of(100)).unwrap();
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    decoder.feed(&frame[..44]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        decoder.finish(),
        Err(FrameError::ClosedMidMessage {
            piece: Piece::Payload { total: 100 },
            have: 40,
            need: 100
        })
    );

    let frame = encode_json_frame("a.txt", b"abc").unwrap();
    let json_len = frame.len() - 4 - 3;
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    decoder.feed(&frame[..10]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        decoder.finish(),
        Err(FrameError::ClosedMidMessage {
            piece: Piece::JsonHeader { len: json_len },
            have: 6,
            need: json_len
        })
    );
}

#[test]
fn invalid_json() {
    for json in [&b"{not json"[..], b"[1, 2]", b"\"a.txt\"", b"   "] {
        let result = decode_one(Format::JsonHeader, &raw_json_frame(json, b""));
        assert!(
            matches!(result, Err(FrameError::InvalidJson(_))),
            "{json:?} gave {result:?}"
        );
    }
}

#[test]
fn json_header_with_a_repeated_key_is_refused_by_name() {
    let md5 = md5_hex(b"abc");
    let json =
        format!(r#"{{"filename": "a", "filename": "../b", "total_size": 3, "md5": "{md5}"}}"#);
    let result = decode_one(Format::JsonHeader, &raw_json_frame(json.as_bytes(), b"abc"));
    let Err(FrameError::InvalidJson(why)) = result else {
        panic!("expected InvalidJson, got {result:?}");
    };
    assert!(why.contains("duplicate field `filename`"), "{why}");
}

#[test]
fn json_header_that_is_not_utf8() {
    let result = decode_one(
        Format::JsonHeader,
        &raw_json_frame(&[0x7b, 0xff, 0xfe, 0x7d], b""),
    );
    let Err(FrameError::InvalidJson(why)) = result else {
        panic!("expected InvalidJson, got {result:?}");
    };
    assert!(why.contains("UTF-8"), "{why}");
}

#[test]
fn missing_fields() {
    let md5 = md5_hex(b"abc");
    let cases = [
        (
            format!(r#"{{"filename":"a.txt","md5":"{md5}"}}"#),
            "total_size",
        ),
        (format!(r#"{{"total_size":3,"md5":"{md5}"}}"#), "filename"),
        (r#"{"filename":"a.txt","total_size":3}"#.to_owned(), "md5"),
    ];
    for (json, field) in cases {
        assert_eq!(
            decode_one(Format::JsonHeader, &raw_json_frame(json.as_bytes(), b"abc")),
            Err(FrameError::MissingField(field)),
            "{json}"
        );
    }
}

#[test]
fn bad_field_types() {
    let md5 = md5_hex(b"abc");
    let cases = [
        (
            format!(r#"{{"filename":"a","total_size":-3,"md5":"{md5}"}}"#),
            "total_size",
        ),
        (
            format!(r#"{{"filename":"a","total_size":3.0,"md5":"{md5}"}}"#),
            "total_size",
        ),
        (
            format!(r#"{{"filename":"a","total_size":"3","md5":"{md5}"}}"#),
            "total_size",
        ),
        (
            format!(r#"{{"filename":7,"total_size":3,"md5":"{md5}"}}"#),
            "filename",
        ),
        (
            r#"{"filename":"a","total_size":3,"md5":"abc"}"#.to_owned(),
            "md5",
        ),
        (
            r#"{"filename":"a","total_size":3,"md5":"zz0150983cd24fb0d6963f7d28e17f72"}"#
                .to_owned(),
            "md5",
        ),
    ];
    for (json, expected_field) in cases {
        let result = decode_one(Format::JsonHeader, &raw_json_frame(json.as_bytes(), b"abc"));
        assert!(
            matches!(&result, Err(FrameError::BadField { field, .. }) if *field == expected_field),
            "{json} gave {result:?}"
        );
    }
    let err = decode_one(
        Format::JsonHeader,
        &raw_json_frame(
            format!(r#"{{"filename":"a","total_size":-3,"md5":"{md5}"}}"#).as_bytes(),
            b"",
        ),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the JSON header field \"total_size\" should be a non-negative integer but is -3"
    );
}

#[test]
fn md5_mismatch() {
    let mut header = JsonHeader::for_payload("a.txt", b"abc");
    header.md5 = md5_hex(b"abd");
    let bytes = raw_json_frame(header.to_json().as_bytes(), b"abc");
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    decoder.feed(&bytes[..bytes.len() - 1]);
    assert_eq!(
        decoder.next_frame(),
        Ok(None),
        "not checked before the payload is in"
    );
    decoder.feed(&bytes[bytes.len() - 1..]);
    let expected = Err(FrameError::Md5Mismatch {
        expected: md5_hex(b"abd"),
        actual: md5_hex(b"abc"),
    });
    assert_eq!(decoder.next_frame(), expected);
    assert_eq!(decoder.next_frame(), expected, "errors are sticky");
}

#[test]
fn error_messages_are_one_sentence_with_the_numbers() {
    let cases = [
        (
            FrameError::TooLarge {
                announced: 2_147_483_647,
                limit: 67_108_864,
            },
            vec!["2147483647", "67108864"],
        ),
        (
            FrameError::NegativeSize {
                announced: -1_073_741_824,
            },
            vec!["-1073741824", "negative"],
        ),
        (
            FrameError::ClosedMidMessage {
                piece: Piece::Payload { total: 100 },
                have: 40,
                need: 100,
            },
            vec!["40 of the 100 bytes of the payload"],
        ),
        (FrameError::InvalidJson("oops".into()), vec!["JSON", "oops"]),
        (
            FrameError::MissingField("total_size"),
            vec!["\"total_size\""],
        ),
        (
            FrameError::Md5Mismatch {
                expected: "aa".into(),
                actual: "bb".into(),
            },
            vec!["aa", "bb", "MD5"],
        ),
    ];
    for (err, needles) in cases {
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        for needle in needles {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
    }
    let io_err = ReadError::from(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
    assert_eq!(io_err.to_string(), "reading from the socket failed: reset");
    let frame_err = ReadError::from(FrameError::MissingField("md5"));
    assert_eq!(
        frame_err.to_string(),
        "the JSON header has no \"md5\" field"
    );
    assert_eq!(
        Piece::JsonHeader { len: 57 }.to_string(),
        "57-byte JSON header"
    );
}

// ---------------------------------------------------------------------------
// wanted() and piece().

#[test]
fn wanted_is_four_then_the_payload() {
    let frame = encode_length_frame(b"0123456789").unwrap();
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    assert_eq!(
        (decoder.piece(), decoder.wanted()),
        (Piece::LengthHeader, 4)
    );
    decoder.feed(&frame[..2]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.wanted(), 2);
    decoder.feed(&frame[2..4]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        (decoder.piece(), decoder.wanted()),
        (Piece::Payload { total: 10 }, 10)
    );
    decoder.feed(&frame[4..7]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(decoder.wanted(), 7);
    decoder.feed(&frame[7..]);
    assert_eq!(
        decoder.next_frame().unwrap().unwrap().payload,
        b"0123456789"
    );
    assert_eq!(
        (decoder.piece(), decoder.wanted()),
        (Piece::LengthHeader, 4)
    );
    assert_eq!(decoder.finish(), Ok(()));
}

#[test]
fn wanted_walks_through_the_json_header() {
    let frame = encode_json_frame("a.txt", b"abcde").unwrap();
    let json_len = frame.len() - 4 - 5;
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    decoder.feed(&frame[..4]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        (decoder.piece(), decoder.wanted()),
        (Piece::JsonHeader { len: json_len }, json_len)
    );
    decoder.feed(&frame[4..4 + json_len]);
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        (decoder.piece(), decoder.wanted()),
        (Piece::Payload { total: 5 }, 5)
    );
    decoder.feed(&frame[4 + json_len..]);
    assert!(decoder.next_frame().unwrap().is_some());
    assert_eq!(decoder.wanted(), 4);
}

// ---------------------------------------------------------------------------
// read_frame and read_exact over fake sockets.

#[test]
fn read_frame_sizes_its_recvs_like_the_course() {
    let payload = payload_of(2500);
    let mut socket = FakeSocket::new(encode_length_frame(&payload).unwrap());
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let frame = read_frame(&mut socket, &mut decoder, 1024)
        .unwrap()
        .unwrap();
    assert_eq!(frame.payload, payload);
    assert_eq!(socket.asked, [4, 1024, 1024, 452]);
    assert!(read_frame(&mut socket, &mut decoder, 1024)
        .unwrap()
        .is_none());
    assert_eq!(socket.asked, [4, 1024, 1024, 452, 4]);
}

#[test]
fn read_frame_json_reads_header_length_then_header_then_payload() {
    let payload = payload_of(2500);
    let json_len = JsonHeader::for_payload("a.txt", &payload).to_json().len();
    let mut socket = FakeSocket::new(encode_json_frame("a.txt", &payload).unwrap());
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    let frame = read_frame(&mut socket, &mut decoder, 1024)
        .unwrap()
        .unwrap();
    assert_eq!(frame.payload, payload);
    assert_eq!(socket.asked, [4, json_len, 1024, 1024, 452]);
}

#[test]
fn read_frame_one_byte_at_a_time() {
    let mut socket = FakeSocket::scripted(encode_length_frame(b"hello").unwrap(), vec![1]);
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let frame = read_frame(&mut socket, &mut decoder, 1024)
        .unwrap()
        .unwrap();
    assert_eq!(frame.payload, b"hello");
    assert_eq!(socket.asked, [4, 3, 2, 1, 5, 4, 3, 2, 1]);
}

#[test]
fn read_frame_with_scripted_chunks_reads_back_to_back_frames() {
    let mut stream = encode_length_frame(b"first message").unwrap();
    stream.extend(encode_length_frame(b"second").unwrap());
    let mut socket = FakeSocket::scripted(stream, vec![3, 7, 100]);
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let first = read_frame(&mut socket, &mut decoder, 8).unwrap().unwrap();
    assert_eq!(first.payload, b"first message");
    assert_eq!(decoder.buffered(), 0, "never reads into the next frame");
    // Header: recv(4) got 3, recv(1) got 1. Payload of 13: recv(8) got 8, recv(5) got 3
    // (the socket's cap cycled back to 3), recv(2) got 2.
    assert_eq!(socket.asked, [4, 1, 8, 5, 2]);
    let second = read_frame(&mut socket, &mut decoder, 8).unwrap().unwrap();
    assert_eq!(second.payload, b"second");
    assert!(read_frame(&mut socket, &mut decoder, 8).unwrap().is_none());
}

#[test]
fn read_frame_reports_a_close_mid_message() {
    let frame = encode_length_frame(&payload_of(100)).unwrap();
    let mut socket = FakeSocket::new(frame[..50].to_vec());
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let err = read_frame(&mut socket, &mut decoder, 1024).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::Frame(FrameError::ClosedMidMessage {
                piece: Piece::Payload { total: 100 },
                have: 46,
                need: 100
            })
        ),
        "{err:?}"
    );
}

#[test]
fn read_frame_passes_on_socket_and_frame_errors() {
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    let err = read_frame(&mut ResetSocket, &mut decoder, 1024).unwrap_err();
    assert!(matches!(&err, ReadError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));

    let mut socket = FakeSocket::new(vec![0, 0, 0, 0xc0]);
    let err = read_frame(&mut socket, &mut decoder, 1024).unwrap_err();
    assert!(matches!(
        err,
        ReadError::Frame(FrameError::NegativeSize { .. })
    ));
}

#[test]
fn read_exact_collects_small_recvs_and_reports_early_close() {
    let mut socket = FakeSocket::scripted(b"abcdef".to_vec(), vec![1]);
    assert_eq!(read_exact(&mut socket, 4, 1024).unwrap(), b"abcd");
    assert_eq!(socket.asked, [4, 3, 2, 1]);
    assert!(read_exact(&mut socket, 0, 1024).unwrap().is_empty());
    let err = read_exact(&mut socket, 4, 1024).unwrap_err();
    let ReadError::Io(e) = &err else {
        panic!("expected an I/O error, got {err:?}");
    };
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("after 2 of 4 bytes"), "{err}");
}

// ---------------------------------------------------------------------------
// Properties.

fn format_of(json: bool) -> Format {
    if json {
        Format::JsonHeader
    } else {
        Format::LengthHeader
    }
}

fn encode_all(format: Format, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut stream = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let frame = match format {
            Format::LengthHeader => encode_length_frame(message),
            Format::JsonHeader => encode_json_frame(&format!("file{i}.bin"), message),
        };
        stream.extend(frame.unwrap());
    }
    stream
}

/// Splits `bytes` at the given cut points (any order, duplicates allowed).
fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

fn check_frame(format: Format, index: usize, frame: &Frame, message: &[u8]) {
    assert_eq!(frame.payload, message);
    match format {
        Format::LengthHeader => assert_eq!(frame.header, None),
        Format::JsonHeader => assert_eq!(
            frame.header,
            Some(JsonHeader::for_payload(
                &format!("file{index}.bin"),
                message
            ))
        ),
    }
}

proptest! {
    #[test]
    fn any_split_decodes_to_the_same_messages(
        messages in vec(vec(any::<u8>(), 0..3000), 0..8),
        json in any::<bool>(),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        let format = format_of(json);
        let stream = encode_all(format, &messages);
        let mut decoder = FrameDecoder::new(format);
        let mut frames = Vec::new();
        for chunk in split(&stream, &cuts) {
            decoder.feed(chunk);
            while let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        prop_assert_eq!(frames.len(), messages.len());
        for (i, (frame, message)) in frames.iter().zip(&messages).enumerate() {
            check_frame(format, i, frame, message);
        }
        prop_assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn read_frame_never_reads_past_a_frame(
        messages in vec(vec(any::<u8>(), 0..3000), 0..8),
        json in any::<bool>(),
        caps in vec(1usize..2000, 1..8),
        chunk in 1usize..2048,
    ) {
        let format = format_of(json);
        let mut socket = FakeSocket::scripted(encode_all(format, &messages), caps);
        let mut decoder = FrameDecoder::new(format);
        let mut count = 0;
        while let Some(frame) = read_frame(&mut socket, &mut decoder, chunk).unwrap() {
            prop_assert!(count < messages.len());
            check_frame(format, count, &frame, &messages[count]);
            prop_assert_eq!(decoder.buffered(), 0);
            count += 1;
        }
        prop_assert_eq!(count, messages.len());
        prop_assert!(socket.asked.iter().all(|&n| 1 <= n && n <= chunk));
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_outgrow_the_limit(
        prefix in proptest::option::of(0usize..60),
        garbage in vec(any::<u8>(), 0..2000),
        json in any::<bool>(),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        const LIMIT: usize = 1000;
        // A small valid length prefix sometimes, so the JSON parser sees the garbage too.
        let mut bytes = prefix.map_or(Vec::new(), |n| length_header(n).unwrap().to_vec());
        bytes.extend(garbage);
        let mut decoder = FrameDecoder::with_limit(format_of(json), LIMIT);
        let mut fed = 0;
        let mut returned = 0;
        'feeding: for chunk in split(&bytes, &cuts) {
            decoder.feed(chunk);
            fed += chunk.len();
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => {
                        prop_assert!(frame.payload.len() <= LIMIT);
                        returned += frame.payload.len();
                    }
                    Ok(None) => {
                        prop_assert!(decoder.wanted() > 0);
                        prop_assert!(decoder.wanted() <= LIMIT);
                        break;
                    }
                    Err(err) => {
                        prop_assert_eq!(decoder.next_frame(), Err(err));
                        break 'feeding;
                    }
                }
            }
            prop_assert!(decoder.buffered() + returned <= fed);
        }
        let _ = decoder.finish();
    }
}

// ---------------------------------------------------------------------------
// What read_frame tells a traced source, and allocation under hostile headers.

/// Records the pieces read_frame asks for and the steps it reports, in order.
#[derive(Default)]
struct Watching {
    inner: Option<FakeSocket>,
    log: Vec<String>,
}

impl RecvSource for Watching {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>> {
        self.inner.as_mut().unwrap().recv(max)
    }

    fn recv_piece(&mut self, piece: Piece, have: usize, max: usize) -> io::Result<Vec<u8>> {
        let got = self.recv(max)?;
        self.log.push(format!(
            "recv {} have={have} max={max} got={}",
            piece.name(),
            got.len()
        ));
        Ok(got)
    }

    fn decoded(&mut self, format: Format, step: &Step) {
        self.log.push(match step {
            Step::NeedMore => "need more".to_string(),
            Step::Length { len } => format!("{format:?} length {len}"),
            Step::Json(header) => format!("json total_size={}", header.total_size),
            Step::Frame(frame) => format!("frame {}", frame.payload.len()),
        });
    }
}

#[test]
fn read_frame_reports_each_piece_in_order() {
    let frame = encode_json_frame("a.txt", &payload_of(1500)).unwrap();
    let json_len = frame.len() - 4 - 1500;
    let mut src = Watching {
        inner: Some(FakeSocket::scripted(frame, vec![2, usize::MAX])),
        ..Watching::default()
    };
    let mut decoder = FrameDecoder::new(Format::JsonHeader);
    let got = read_frame(&mut src, &mut decoder, 1024).unwrap().unwrap();
    assert_eq!(got.payload, payload_of(1500));
    assert_eq!(
        src.log,
        [
            "recv length header have=0 max=4 got=2".to_string(),
            "recv length header have=2 max=2 got=2".to_string(),
            format!("JsonHeader length {json_len}"),
            format!("recv JSON header have=0 max={json_len} got=2"),
            format!(
                "recv JSON header have=2 max={} got={}",
                json_len - 2,
                json_len - 2
            ),
            "json total_size=1500".to_string(),
            "recv payload have=0 max=1024 got=2".to_string(),
            "recv payload have=2 max=1024 got=1024".to_string(),
            "recv payload have=1026 max=474 got=2".to_string(),
            "recv payload have=1028 max=472 got=472".to_string(),
            "frame 1500".to_string(),
        ]
    );
}

#[test]
fn step_decodes_one_piece_at_a_time() {
    let mut decoder = FrameDecoder::new(Format::LengthHeader);
    decoder.feed(&encode_length_frame(b"abc").unwrap());
    assert_eq!(decoder.step(), Ok(Step::Length { len: 3 }));
    assert_eq!(decoder.piece(), Piece::Payload { total: 3 });
    assert_eq!(
        decoder.step(),
        Ok(Step::Frame(Frame {
            header: None,
            payload: b"abc".to_vec()
        }))
    );
    assert_eq!(decoder.step(), Ok(Step::NeedMore));
}

proptest! {
    /// Whatever size a header announces (up to the 64 MiB default limit, or any i32), the
    /// decoder's memory follows the bytes that really arrived, never the announcement.
    #[test]
    fn announced_sizes_are_never_allocated(
        announced in any::<i32>(),
        json in any::<bool>(),
        tail in vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = announced.to_le_bytes().to_vec();
        bytes.extend(&tail);
        let mut decoder = FrameDecoder::new(format_of(json));
        let (result, largest) = largest_allocation(|| {
            decoder.feed(&bytes);
            let result = decoder.next_frame();
            let _ = decoder.finish();
            result
        });
        prop_assert!(
            largest <= 4 * 1024,
            "fed {} bytes, largest allocation {largest} bytes (announced {announced})",
            bytes.len()
        );
        if announced < 0 {
            prop_assert_eq!(result, Err(FrameError::NegativeSize { announced }));
        }
    }
}
