//! Reading a framed message (a length header, perhaps a JSON header, then the data) from a
//! program outside netlab: the framing module's own read loop, through traced recvs that
//! first wait for the peer (bounded), and its errors turned into diagnoses. Nothing a header
//! announces is allocated: the decoder buffers only bytes that arrived, and refuses a size
//! over [`super::LIMIT`] before waiting for any of it.

use std::io;

use super::diagnosis::Diagnosis;
use super::outside::{Outside, Waited};
use crate::event::{Outcome, Text};
use crate::framing::{Format, FrameDecoder, FrameError, Piece, RecvSource, Step};
use crate::phrases;
use crate::recorder::Recorder;
use crate::sock::Sock;

/// A traced socket that waits for the peer before each recv. A wait that ends without data
/// becomes an error of the read loop; the flags tell which.
pub(crate) struct Patient<'a> {
    pub(crate) conn: &'a mut Sock,
    pub(crate) outside: Outside,
    pub(crate) recorder: Recorder,
    pub(crate) timed_out: bool,
    pub(crate) stopped: bool,
}

impl Patient<'_> {
    fn wait(&mut self, call: String) -> io::Result<()> {
        self.recorder.begin();
        match self.outside.readable(self.conn.borrowed_fd())? {
            Waited::Ready => Ok(()),
            Waited::Stopped => {
                self.stopped = true;
                Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"))
            }
            Waited::TimedOut => {
                self.timed_out = true;
                let shown = self.outside.shown_limit();
                self.conn
                    .side()
                    .record(call, Outcome::Blocked(blocks_for(&shown)));
                Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the peer sent nothing",
                ))
            }
        }
    }
}

/// A recv that waited for the peer for the whole declared limit.
pub(crate) fn blocks_for(waited: &Text) -> Text {
    phrases::blocks_for(&waited.en, &waited.zh)
}

impl RecvSource for Patient<'_> {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let call = format!("data = {}", self.conn.call(format_args!("recv({max})")));
        self.wait(call)?;
        self.conn.recv(max)
    }

    fn recv_piece(&mut self, piece: Piece, have: usize, max: usize) -> io::Result<Vec<u8>> {
        self.wait(crate::framed::piece_call(self.conn, piece, have, max))?;
        <Sock as RecvSource>::recv_piece(self.conn, piece, have, max)
    }

    fn decoded(&mut self, format: Format, step: &Step) {
        <Sock as RecvSource>::decoded(self.conn, format, step);
    }
}

/// Where a read stopped inside a message: the piece, the bytes of it that came, its length.
/// None at a frame boundary with nothing buffered.
pub(crate) fn progress(decoder: &FrameDecoder) -> Option<(Piece, usize, usize)> {
    let piece = decoder.piece();
    if piece == Piece::LengthHeader && decoder.buffered() == 0 {
        None
    } else {
        Some((piece, decoder.buffered(), piece.len()))
    }
}

/// What a decoder's error says about the peer.
pub(crate) fn diagnose(err: FrameError, format: Format, header_limit: usize) -> Diagnosis {
    match err {
        FrameError::NegativeSize { announced } => {
            let header = announced.to_le_bytes();
            let limit = match format {
                Format::LengthHeader => super::LIMIT,
                Format::JsonHeader => header_limit,
            };
            byte_swapped(header, limit).unwrap_or(Diagnosis::NegativeLength {
                header,
                read: announced,
            })
        }
        FrameError::TooLarge { announced, limit } if format == Format::LengthHeader => {
            header_of(announced)
                .and_then(|header| byte_swapped(header, limit))
                .unwrap_or(Diagnosis::InsaneLength { announced, limit })
        }
        FrameError::HeaderTooLarge { announced, limit } => header_of(announced)
            .and_then(|header| byte_swapped(header, limit))
            .unwrap_or(Diagnosis::InsaneLength { announced, limit }),
        FrameError::TooLarge { announced, limit } => Diagnosis::InsaneLength { announced, limit },
        FrameError::ClosedMidMessage { piece, have, need } => {
            Diagnosis::ShortMessage { piece, have, need }
        }
        FrameError::InvalidJson(why) => Diagnosis::BadJson { why },
        FrameError::MissingField(field) => Diagnosis::MissingField { field },
        FrameError::BadField {
            field,
            expected,
            found,
        } => Diagnosis::BadField {
            field,
            expected,
            found,
        },
        FrameError::Md5Mismatch { expected, actual } => Diagnosis::Md5Mismatch { expected, actual },
    }
}

/// The 4 header bytes behind an error about the size they announce, if it is one: the
/// reader shows them unpacked as the course's reader would (`struct.unpack('i', ...)`).
pub(crate) fn refused_header(err: &FrameError, format: Format) -> Option<[u8; 4]> {
    match *err {
        FrameError::NegativeSize { announced } => Some(announced.to_le_bytes()),
        FrameError::TooLarge { announced, .. } if format == Format::LengthHeader => {
            header_of(announced)
        }
        FrameError::HeaderTooLarge { announced, .. } => header_of(announced),
        _ => None,
    }
}

/// The 4 bytes that decoded (little-endian, signed) to `announced`.
fn header_of(announced: u64) -> Option<[u8; 4]> {
    u32::try_from(announced).ok().map(u32::to_le_bytes)
}

/// A header that makes sense only in the other byte order: read as the sender must have
/// packed it (big-endian), it gives a size from 0 to `limit`.
fn byte_swapped(header: [u8; 4], limit: usize) -> Option<Diagnosis> {
    let read = i32::from_le_bytes(header);
    let swapped = i32::from_be_bytes(header);
    let sensible = usize::try_from(swapped).is_ok_and(|size| size <= limit);
    (sensible && swapped != read).then_some(Diagnosis::ByteOrder {
        header,
        read,
        swapped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(format: Format, bytes: &[u8]) -> Diagnosis {
        let mut decoder = FrameDecoder::with_limit(format, super::super::LIMIT);
        decoder.feed(bytes);
        let err = decoder.next_frame().unwrap_err();
        diagnose(err, format, decoder.header_limit())
    }

    #[test]
    fn a_big_endian_size_is_found_as_byte_order_at_every_size() {
        for size in [1u32, 6, 255, 300, 1000, 2005, 65535, 70000] {
            let found = decode(Format::LengthHeader, &size.to_be_bytes());
            match found {
                Diagnosis::ByteOrder { swapped, .. } => assert_eq!(swapped as u32, size),
                other => panic!("{size}: {other:?}"),
            }
        }
        let json = decode(Format::JsonHeader, &70u32.to_be_bytes());
        assert!(
            matches!(json, Diagnosis::ByteOrder { swapped: 70, .. }),
            "{json:?}"
        );
    }

    #[test]
    fn negative_and_insane_sizes_are_told_apart_from_byte_order() {
        let minus_one = decode(Format::LengthHeader, &(-1i32).to_le_bytes());
        assert_eq!(minus_one.code(), "negative_length");
        let two_gb = decode(Format::LengthHeader, &i32::MAX.to_le_bytes());
        assert_eq!(two_gb.code(), "insane_length");
    }
}
