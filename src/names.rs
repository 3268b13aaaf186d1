//! Stable names for the numbers that change from run to run (ports the kernel picks, temp
//! dirs), so that default output is byte-identical everywhere; `--raw` shows the real ones.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Which series a new port name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole {
    /// A port a program bound on purpose (a server): `PORT`, `PORT_2`, ...
    Bound,
    /// A port the kernel gave a client implicitly at connect/sendto: `CLIENT_PORT_1`, ...
    Ephemeral,
}

#[derive(Debug, Default)]
pub struct Names {
    raw: bool,
    ports: HashMap<u16, String>,
    bound: usize,
    ephemeral: usize,
    dirs: Vec<(PathBuf, String)>,
}

impl Names {
    pub fn new(raw: bool) -> Names {
        Names {
            raw,
            ..Names::default()
        }
    }

    /// Gives `port` a name in `role`'s series unless it has one already; returns how it shows.
    pub fn name_port(&mut self, port: u16, role: PortRole) -> String {
        if port != 0 && !self.ports.contains_key(&port) {
            self.rename_port(port, role);
        }
        self.port(port)
    }

    /// Gives `port` the next name in `role`'s series even if it had one: for a number the kernel
    /// has just handed out again to a new socket (an earlier client's port, free once that client
    /// closed, say), which is a new endpoint and must not show under the old name.
    pub fn rename_port(&mut self, port: u16, role: PortRole) -> String {
        if port != 0 {
            let name = match role {
                PortRole::Bound => {
                    self.bound += 1;
                    if self.bound == 1 {
                        "PORT".to_string()
                    } else {
                        format!("PORT_{}", self.bound)
                    }
                }
                PortRole::Ephemeral => {
                    self.ephemeral += 1;
                    format!("CLIENT_PORT_{}", self.ephemeral)
                }
            };
            self.ports.insert(port, name);
        }
        self.port(port)
    }

    /// Shows `port` as its own number from now on, also without `--raw`: a port a person typed
    /// (`netlab serve 08 --port 8080`) is the same on every run and means more as itself.
    pub fn keep_number(&mut self, port: u16) {
        if port != 0 {
            self.ports.insert(port, port.to_string());
        }
    }

    /// How a port shows: its name, or the number under `--raw` or when it has no name.
    pub fn port(&self, port: u16) -> String {
        match self.ports.get(&port) {
            Some(name) if !self.raw => name.clone(),
            _ => port.to_string(),
        }
    }

    /// The port's stable name, if it has one and names are shown (not under `--raw`).
    pub fn port_name(&self, port: u16) -> Option<String> {
        self.ports.get(&port).filter(|_| !self.raw).cloned()
    }

    /// Registers a temporary directory under a stable name such as `TMP`.
    pub fn name_dir(&mut self, dir: &Path, name: &str) {
        self.dirs.push((dir.to_path_buf(), name.to_string()));
    }

    /// A path with any named temporary directory replaced by its name.
    pub fn path(&self, path: &Path) -> String {
        if !self.raw {
            for (dir, name) in &self.dirs {
                if let Ok(rest) = path.strip_prefix(dir) {
                    return Path::new(name).join(rest).display().to_string();
                }
            }
        }
        path.display().to_string()
    }

    /// A socket address in Python's tuple notation: `('127.0.0.1', PORT)`.
    pub fn inet(&self, addr: &SocketAddr) -> String {
        format!("('{}', {})", addr.ip(), self.port(addr.port()))
    }

    pub fn is_raw(&self) -> bool {
        self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_get_names_in_order_of_appearance() {
        let mut names = Names::new(false);
        assert_eq!(names.name_port(40000, PortRole::Bound), "PORT");
        assert_eq!(names.name_port(50001, PortRole::Ephemeral), "CLIENT_PORT_1");
        assert_eq!(names.name_port(40000, PortRole::Ephemeral), "PORT");
        assert_eq!(names.name_port(40002, PortRole::Bound), "PORT_2");
        assert_eq!(
            names.inet(&"127.0.0.1:50001".parse().unwrap()),
            "('127.0.0.1', CLIENT_PORT_1)"
        );
        let mut raw = Names::new(true);
        assert_eq!(raw.name_port(40000, PortRole::Bound), "40000");
    }

    #[test]
    fn a_port_handed_out_again_gets_a_new_name() {
        let mut names = Names::new(false);
        assert_eq!(names.name_port(50001, PortRole::Ephemeral), "CLIENT_PORT_1");
        assert_eq!(names.name_port(40000, PortRole::Bound), "PORT");
        assert_eq!(
            names.rename_port(50001, PortRole::Ephemeral),
            "CLIENT_PORT_2"
        );
        assert_eq!(names.port(50001), "CLIENT_PORT_2");
        assert_eq!(names.name_port(50001, PortRole::Ephemeral), "CLIENT_PORT_2");
    }

    #[test]
    fn a_typed_port_keeps_its_number() {
        let mut names = Names::new(false);
        names.keep_number(8080);
        assert_eq!(names.name_port(8080, PortRole::Bound), "8080");
        assert_eq!(names.name_port(50001, PortRole::Ephemeral), "CLIENT_PORT_1");
        assert_eq!(names.name_port(40000, PortRole::Bound), "PORT");
    }

    #[test]
    fn temp_dirs_are_named() {
        let mut names = Names::new(false);
        names.name_dir(Path::new("/tmp/abc123"), "TMP");
        assert_eq!(
            names.path(Path::new("/tmp/abc123/lab.sock")),
            "TMP/lab.sock"
        );
    }
}
