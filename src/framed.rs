//! The framing module reading through traced sockets. It sits above both the socket layer
//! and the program steps, which know nothing of each other.

use std::io;

use crate::event::{Outcome, Text};
use crate::sock::Sock;

/// How a recv for a piece of a frame is written: `header = conn.recv(4)`, `json_bytes =
/// conn.recv(N)`, `data = conn.recv(1024)`, with `+=` for a piece already begun.
pub(crate) fn piece_call(
    sock: &Sock,
    piece: crate::framing::Piece,
    have: usize,
    max: usize,
) -> String {
    use crate::framing::Piece;
    let var = match piece {
        Piece::LengthHeader => "header",
        Piece::JsonHeader { .. } => "json_bytes",
        Piece::Payload { .. } => "data",
    };
    let op = if have == 0 { "=" } else { "+=" };
    format!("{var} {op} {}", sock.call(format_args!("recv({max})")))
}

/// The framing module's read loop reads through the traced `recv`, so every recv it makes
/// shows in the trace exactly as the course's loop would make it: `header = conn.recv(4)`,
/// `json_bytes = conn.recv(N)`, `data = conn.recv(1024)` (`+=` for the calls that add to a
/// piece already begun), and each decoded header as the
/// line the course writes for it (`total_size = struct.unpack('i', header)[0]`).
impl crate::framing::RecvSource for Sock {
    fn recv(&mut self, max: usize) -> io::Result<Vec<u8>> {
        Sock::recv(self, max)
    }

    fn recv_piece(
        &mut self,
        piece: crate::framing::Piece,
        have: usize,
        max: usize,
    ) -> io::Result<Vec<u8>> {
        let call = piece_call(self, piece, have, max);
        self.recv_as(call, max)
    }

    fn decoded(&mut self, format: crate::framing::Format, step: &crate::framing::Step) {
        use crate::framing::{Format, Step};
        let (call, result) = match (format, step) {
            (Format::LengthHeader, Step::Length { len }) => (
                format!(
                    "total_size = struct.unpack({}, header)[0]",
                    crate::program::native_int_format()
                ),
                len.to_string(),
            ),
            (Format::JsonHeader, Step::Length { len }) => (
                format!(
                    "json_len = struct.unpack({}, header)[0]",
                    crate::program::native_int_format()
                ),
                len.to_string(),
            ),
            (_, Step::Json(header)) => (
                "header_dic = json.loads(json_bytes)".to_string(),
                crate::program::python_dict(header),
            ),
            _ => return,
        };
        self.side().begin();
        self.side()
            .record(call, Outcome::Returned(Text::same(result)));
    }
}
