//! `netlab completions SHELL`: clap_complete's script, which offers the lab ids and names
//! for LAB (they are LAB's possible values, see `lab_arg`). clap_complete's fish script
//! leaves positional arguments out, so for fish the labs are added here, one `complete` line
//! each.

use clap::CommandFactory;
use clap_complete::Shell;

use netlab::lab;

use super::args::Cli;

/// The subcommands that take a LAB.
const TAKE_A_LAB: [&str; 3] = ["run", "show", "verify"];

/// The completion script for `shell`, in memory (clap_complete panics when its writer fails).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "netlab", &mut script);
    if shell == Shell::Fish {
        script.extend_from_slice(fish_labs().as_bytes());
    }
    script
}

/// `complete -c netlab -n "__fish_netlab_using_subcommand run" -f -a '07-sticky-packet' -d '...'`
/// for each subcommand that takes a LAB and each lab id and name.
fn fish_labs() -> String {
    let mut lines = String::from("# Lab ids and names for LAB\n");
    for command in TAKE_A_LAB {
        for lab in lab::all() {
            for (value, title) in [
                (lab.id, lab.title.en.as_ref()),
                (lab.name(), lab.title.en.as_ref()),
            ] {
                lines.push_str(&format!(
                    "complete -c netlab -n \"__fish_netlab_using_subcommand {command}\" -f -a {} -d {}\n",
                    fish_quote(value),
                    fish_quote(title)
                ));
            }
        }
    }
    lines
}

/// A fish single-quoted string: only `\` and `'` need escaping.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_the_lab_ids_and_names() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = String::from_utf8(script(shell)).unwrap();
            for lab in lab::all() {
                assert!(script.contains(lab.id), "{shell}: no {}", lab.id);
                assert!(script.contains(lab.name()), "{shell}: no {}", lab.name());
            }
        }
        let fish = String::from_utf8(script(Shell::Fish)).unwrap();
        assert!(fish.contains(
            "complete -c netlab -n \"__fish_netlab_using_subcommand show\" -f -a '07-sticky-packet'"
        ));
        assert_eq!(fish_quote("'i' vs '!I'"), r"'\'i\' vs \'!I\''");
    }
}
