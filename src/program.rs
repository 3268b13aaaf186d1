//! Steps a lab's programs take that are not socket calls, recorded in Python notation like
//! the socket calls: running a command (`subprocess.run`), packing a header (`struct.pack`),
//! building a JSON header (`json.dumps`), hashing (`hashlib.md5`) and file reads and writes.
//!
//! Every value shown comes from doing the step for real; the encoders are the ones in
//! [`crate::framing`], so what a trace shows is byte for byte what went on the wire.

use std::io;
use std::path::Path;

use crate::commands::{self, CommandError, CommandOutput};
use crate::event::{Outcome, Text};
use crate::framing::{self, JsonHeader};
use crate::phrases;
use crate::pyrepr;
use crate::sock::{Side, PREVIEW_BYTES};

/// A `struct` format for the 4-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pack {
    /// `'i'`: signed 32-bit, the machine's own byte order (little-endian on x86-64 and
    /// arm64). This is the course's header and what [`crate::framing`] reads.
    NativeInt,
    /// `'!I'`: unsigned 32-bit, network byte order (big-endian) on every machine.
    NetworkUnsigned,
}

/// How the course's `'i'` header is written in this trace: `'i'` on a little-endian machine
/// (x86-64, arm64), where native order is what netlab sends; `'<i'` elsewhere, because
/// netlab's wire format is little-endian on every machine.
pub fn native_int_format() -> &'static str {
    if cfg!(target_endian = "little") {
        "'i'"
    } else {
        "'<i'"
    }
}

impl Pack {
    fn python(self) -> &'static str {
        match self {
            Pack::NativeInt => native_int_format(),
            Pack::NetworkUnsigned => "'!I'",
        }
    }
}

/// `{'filename': 'a.txt', 'total_size': 3, 'md5': '...'}`: a JSON header as Python prints
/// the dict `json.loads` gives.
pub fn python_dict(header: &JsonHeader) -> String {
    format!(
        "{{'filename': {}, 'total_size': {}, 'md5': {}}}",
        pyrepr::str_literal(&header.filename),
        header.total_size,
        pyrepr::str_literal(&header.md5)
    )
}

fn bytes_result(data: &[u8]) -> Text {
    let shown = pyrepr::bytes_preview(data, PREVIEW_BYTES);
    phrases::bytes_with_length(&shown, &data.len().to_string())
}

impl Side {
    fn step(&self, call: String, result: Text) {
        self.record(call, Outcome::Returned(result));
    }

    fn show_path(&self, path: &Path) -> String {
        pyrepr::str_literal(&self.registry().path(path))
    }

    /// `res = subprocess.run(['seq', '1000', '1400'], capture_output=True)` for a command
    /// text that came over the connection. Only a text on [`commands::ALLOWED`] runs; any
    /// other is refused before a process exists, and the refusal is recorded.
    pub fn run_command(&self, var: &str, text: &[u8]) -> Result<CommandOutput, CommandError> {
        let cmd = match commands::lookup(text) {
            Ok(cmd) => cmd,
            Err(refused) => {
                let shown = refused.shown();
                self.step(
                    format!("{} in ALLOWED_COMMANDS", pyrepr::bytes_literal(text)),
                    phrases::command_refused(&shown),
                );
                return Err(refused.into());
            }
        };
        let call = format!(
            "{var} = subprocess.run({}, capture_output=True)",
            cmd.python_argv()
        );
        match commands::run(cmd) {
            Ok(out) => {
                let code = out
                    .status
                    .map_or_else(|| "None".to_string(), |c| c.to_string());
                let (o, e) = (out.stdout.len(), out.stderr.len());
                self.step(call, phrases::command_finished(&code, o, e));
                Ok(out)
            }
            Err(err) => {
                self.step(call, Text::same(format!("error: {err}")));
                Err(err)
            }
        }
    }

    /// `header = struct.pack('i', n)`: the 4-byte header, made by [`framing::length_header`]
    /// for `'i'`. Fails (recorded) when `n` does not fit.
    pub fn struct_pack(&self, var: &str, format: Pack, n: usize) -> io::Result<[u8; 4]> {
        let call = format!("{var} = struct.pack({}, {n})", format.python());
        let packed = match format {
            Pack::NativeInt => framing::length_header(n).map_err(io::Error::other),
            Pack::NetworkUnsigned => u32::try_from(n)
                .map(u32::to_be_bytes)
                .map_err(|_| io::Error::other(format!("{n} does not fit in 'I'"))),
        };
        match packed {
            Ok(bytes) => {
                self.step(call, Text::same(pyrepr::bytes_literal(&bytes)));
                Ok(bytes)
            }
            Err(err) => {
                let text = format!("struct.error: {err}");
                self.step(call, Text::same(text));
                Err(err)
            }
        }
    }

    /// `n = struct.unpack('i', b'...')[0]`: how a reader using `format` reads 4 bytes.
    pub fn struct_unpack(&self, var: &str, format: Pack, bytes: [u8; 4]) -> i64 {
        let value = match format {
            Pack::NativeInt => i64::from(i32::from_le_bytes(bytes)),
            Pack::NetworkUnsigned => i64::from(u32::from_be_bytes(bytes)),
        };
        self.step(
            format!(
                "{var} = struct.unpack({}, {})[0]",
                format.python(),
                pyrepr::bytes_literal(&bytes)
            ),
            Text::same(value.to_string()),
        );
        value
    }

    /// `header_dic = {'filename': ..., 'total_size': len(data), 'md5':
    /// hashlib.md5(data).hexdigest()}`, computed from `data`.
    pub fn header_dict(
        &self,
        var: &str,
        filename: &str,
        data_var: &str,
        data: &[u8],
    ) -> JsonHeader {
        let header = JsonHeader::for_payload(filename, data);
        self.step(
            format!(
                "{var} = {{'filename': {}, 'total_size': len({data_var}), 'md5': hashlib.md5({data_var}).hexdigest()}}",
                pyrepr::str_literal(filename)
            ),
            Text::same(python_dict(&header)),
        );
        header
    }

    /// `header_bytes = json.dumps(header_dic).encode('utf-8')`, as the course writes it: the
    /// JSON with Python's default separators that [`framing::encode_json_frame`] sends.
    pub fn json_dumps(&self, var: &str, dict_var: &str, header: &JsonHeader) -> Vec<u8> {
        let bytes = header.to_json().into_bytes();
        self.step(
            format!("{var} = json.dumps({dict_var}).encode('utf-8')"),
            bytes_result(&bytes),
        );
        bytes
    }

    /// `digest = hashlib.md5(data).hexdigest()`, really computed.
    pub fn md5_hex(&self, var: &str, data_var: &str, data: &[u8]) -> String {
        let digest = framing::md5_hex(data);
        self.step(
            format!("{var} = hashlib.md5({data_var}).hexdigest()"),
            Text::same(pyrepr::str_literal(&digest)),
        );
        digest
    }

    /// `open(path, 'wb').write(data)`: returns how many bytes were written.
    pub fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<usize> {
        let call = format!(
            "open({}, 'wb').write({})",
            self.show_path(path),
            pyrepr::bytes_preview(data, PREVIEW_BYTES)
        );
        match std::fs::write(path, data) {
            Ok(()) => {
                self.step(call, Text::same(data.len().to_string()));
                Ok(data.len())
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// `data = open(path, 'rb').read()`
    pub fn read_file(&self, var: &str, path: &Path) -> io::Result<Vec<u8>> {
        let call = format!("{var} = open({}, 'rb').read()", self.show_path(path));
        match std::fs::read(path) {
            Ok(data) => {
                self.step(call, bytes_result(&data));
                Ok(data)
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }
}
