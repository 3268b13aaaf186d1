//! Labs in a private network namespace whose ephemeral port range holds two ports, so the
//! kernel hands a freed port out again at the next chance. A lab that relies on a closed port
//! staying unused (lab 10 once connected its checker socket to itself) fails here every time
//! instead of once in tens of thousands of runs. Where user namespaces are refused, the tests
//! print why and pass without checking anything.

use std::process::{Command, Output};

/// Brings up lo, narrows the ephemeral range to 40000-40001, then runs what follows.
const SETUP: &str =
    "ip link set lo up && echo '40000 40001' > /proc/sys/net/ipv4/ip_local_port_range";

fn in_two_port_namespace(netlab_args: &[&str]) -> Option<Output> {
    let probe = Command::new("unshare")
        .args(["-rn", "sh", "-c", SETUP])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipped: cannot make a private network namespace here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Err(err) => {
            eprintln!("skipped: cannot run unshare: {err}");
            return None;
        }
    }
    let script = format!("{SETUP} && exec \"$0\" \"$@\"");
    let data = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script, env!("CARGO_BIN_EXE_netlab")])
        .args(netlab_args)
        .env("XDG_DATA_HOME", data.path())
        .env("LC_ALL", "C")
        .env_remove("NETLAB_LANG")
        .output()
        .expect("unshare runs");
    Some(out)
}

#[test]
fn lab_10_never_connects_its_checker_to_itself_when_ports_are_scarce() {
    for run in 1..=5 {
        let Some(out) = in_two_port_namespace(&["verify", "10"]) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.lines().nth(1).is_some_and(|l| l.starts_with("ok ")),
            "run {run}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
