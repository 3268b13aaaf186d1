//! `socketserver.ThreadingTCPServer`, shown with the calls CPython's Lib/socketserver.py makes
//! underneath, so a student sees that it is the same link loop with a thread per connection.
//!
//! - the constructor (`TCPServer.__init__`, `server_bind`, `server_activate`):
//!   `self.socket = socket.socket(...)`, `bind(server_address)`, `listen(5)`
//!   (`request_queue_size`); no SO_REUSEADDR, because `allow_reuse_address` is False;
//! - `serve_forever()`: a `PollSelector` with the server registered for reading, and
//!   `selector.select(poll_interval)` (0.5 s) before each request;
//! - `_handle_request_noblock()`: `get_request()`, which is `self.socket.accept()`, then
//!   `process_request()`, which (ThreadingMixIn) starts
//!   `threading.Thread(target=self.process_request_thread, args=(request, client_address))`;
//! - in that thread the handler class is instantiated, its `handle()` runs with the socket as
//!   `self.request`, and `shutdown_request(request)` ends the connection:
//!   `request.shutdown(socket.SHUT_WR)` (an OSError is ignored), then `request.close()`.
//!
//! The program's own calls name the server object as the program does (`server`); the calls
//! socketserver makes inside its methods are written as its code writes them, with the server
//! object as `self` and its socket as `self.socket`.

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use super::addr::Addr;
use super::select::Selector;
use super::{Side, Sock};
use crate::event::{Outcome, Text};

/// What `serve_forever()` passes to `selector.select()`: its `poll_interval`, 0.5 s.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// `TCPServer.request_queue_size`: the backlog its constructor passes to `listen()`.
const REQUEST_QUEUE_SIZE: i32 = 5;

/// The server object inside socketserver's own methods.
const INSIDE: &str = "self";

/// A `socketserver.ThreadingTCPServer` of the lab's program.
pub struct SocketServer {
    side: Side,
    var: String,
    socket: Sock,
}

impl Side {
    /// `var = socketserver.ThreadingTCPServer(addr, handler)`, then the calls its
    /// constructor makes: `self.socket = socket(AF_INET, SOCK_STREAM)`,
    /// `self.socket.bind(addr)`, `self.socket.listen(5)`.
    pub fn threading_tcp_server(
        &self,
        var: &str,
        addr: &Addr,
        handler: &str,
    ) -> io::Result<SocketServer> {
        self.begin();
        let shown = self.registry().show_addr(addr);
        self.record(
            format!("{var} = socketserver.ThreadingTCPServer({shown}, {handler})"),
            Outcome::Returned(Text::same("")),
        );
        let socket = self.tcp(&format!("{INSIDE}.socket"))?;
        socket.bind(addr)?;
        socket.listen(REQUEST_QUEUE_SIZE)?;
        Ok(SocketServer {
            side: self.clone(),
            var: var.to_string(),
            socket,
        })
    }
}

impl SocketServer {
    /// The listening socket, `self.socket`.
    pub fn socket(&self) -> &Sock {
        &self.socket
    }

    /// `server.serve_forever()`, then the selector it waits with:
    /// `selector = selectors.PollSelector()`, `selector.register(self, EVENT_READ)`.
    /// Its loop is `ready = selector.select(timeout=0.5)` (see [`POLL_INTERVAL`]), then
    /// [`SocketServer::get_request`] when the server is ready.
    pub fn serve_forever(&self) -> io::Result<Selector> {
        self.side.begin();
        self.side.record(
            format!("{}.serve_forever()", self.var),
            Outcome::Returned(Text::same("")),
        );
        let selector = self.side.poll_selector("selector");
        selector.register_as(&self.socket, INSIDE)?;
        Ok(selector)
    }

    /// `request, client_address = self.socket.accept()` (`get_request()`).
    pub fn get_request(&self) -> io::Result<(Sock, Addr)> {
        self.socket.accept_as("request", "client_address")
    }

    /// `process_request(request, client_address)`: a new thread runs
    /// `process_request_thread`, which makes the handler, whose `handle()` knows the socket
    /// as `self.request`. Returns the thread's side and the socket as that thread has it.
    pub fn process_request(&self, request: Sock) -> (Side, Sock) {
        let target = format!("{INSIDE}.process_request_thread");
        let thread = self
            .side
            .start_thread("t", &target, &["request", "client_address"]);
        let request = request.handed_to(&thread, "self.request");
        (thread, request)
    }

    /// `shutdown_request(request)`, in the request's thread once `handle()` returned:
    /// `request.shutdown(SHUT_WR)` (socketserver ignores an OSError here), then
    /// `request.close()`.
    pub fn shutdown_request(&self, request: Sock) {
        let thread = request.side().clone();
        let request = request.handed_to(&thread, "request");
        // An OSError is recorded as raised, and ignored as socketserver's `except OSError:
        // pass` does; the close follows either way.
        let _ = request.shutdown(Shutdown::Write);
        request.close();
    }

    /// `server.server_close()`: closes the listening socket (and waits for the request
    /// threads, which have all ended in a lab that calls it).
    pub fn server_close(self) {
        let call = format!("{}.server_close()", self.var);
        self.socket.close_as(call);
    }
}
