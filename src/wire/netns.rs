//! A private network namespace for `--wire`: its own lo, where a packet socket sees only the
//! lab's traffic, made by any user the kernel lets make one.
//!
//! As root the process unshares a network namespace alone. Otherwise it unshares a user
//! namespace and a network namespace in one call and maps its own user and group ids to 0
//! there: it is then root in the user namespace that owns the new network namespace, with
//! CAP_NET_ADMIN (to bring lo up) and CAP_NET_RAW (to open the packet socket) over it and
//! nothing else. Files it creates still belong to the real user outside.
//!
//! Namespaces belong to threads: call [`enter_private`] first thing in `main`, before any thread
//! starts. The kernel refuses CLONE_NEWUSER to a process with threads (EINVAL), and a thread
//! started earlier would stay in the old namespaces.
//!
//! When the kernel refuses, [`Refused`] says in one sentence what was refused and which setting
//! allows it, read from the errno and from the sysctls this kernel has.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Socket, Type};

use crate::event::Text;
use crate::sys;

/// Which namespaces this process now has of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entered {
    /// A network namespace (the process was root).
    Network,
    /// A user namespace, where the process is root, owning a network namespace; `uid`/`gid`
    /// are the real ids outside, mapped to 0 inside.
    UserAndNetwork { uid: u32, gid: u32 },
}

/// How to make the namespace: [`How::Auto`] is what netlab does; the others let tests take a
/// path that the process's own privileges would not choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Root: a network namespace alone, and a user namespace too if that is refused (root
    /// without CAP_SYS_ADMIN, in a container). Anyone else: a user namespace too.
    Auto,
    NetworkOnly,
    UserAndNetwork,
}

/// The step the kernel refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// unshare(CLONE_NEWNET)
    NetworkNamespace,
    /// unshare(CLONE_NEWUSER | CLONE_NEWNET)
    UserNamespace,
    /// Writing /proc/self/setgroups, uid_map or gid_map: mapping the ids into the user namespace.
    IdMap(&'static str),
    /// Bringing lo up in the new network namespace.
    Loopback,
}

/// Why, as far as this machine tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10 and later).
    AppArmor,
    /// kernel.unprivileged_userns_clone = 0 (Debian's and some distributions' kernels).
    UnprivilegedUsernsClone,
    /// A namespace limit sysctl (user.max_user_namespaces, user.max_net_namespaces) is 0.
    LimitZero(&'static str),
    /// The namespace limits are not 0 but this user has used them up.
    LimitReached,
    /// The process has threads: CLONE_NEWUSER needs a single-threaded process.
    Threads(u32),
    /// The kernel was built without this kind of namespace ("user", "network").
    NoKernelSupport(&'static str),
    /// A seccomp filter refused the call (a container's profile, say).
    Seccomp,
    /// Root without the capability (CAP_SYS_ADMIN, CAP_NET_ADMIN) the step needs.
    NoCapability,
    /// None of the above could be told.
    Unknown,
}

/// The kernel refused a private network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub step: Step,
    /// The errno of the refused call.
    pub errno: i32,
    pub cause: Cause,
}

/// Set once this process is in a namespace [`enter`] made: only then is a capture on lo the
/// lab's own traffic and nobody else's.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Whether this process entered its private network namespace.
pub fn is_entered() -> bool {
    ENTERED.load(Ordering::SeqCst)
}

/// Makes this process's private network namespace (see [`How::Auto`]) and brings its lo up.
pub fn enter_private() -> Result<Entered, Refused> {
    enter(How::Auto)
}

/// [`enter_private`], taking the path `how` names.
pub fn enter(how: How) -> Result<Entered, Refused> {
    // Read before unshare: inside a new user namespace the ids read as 65534 until mapped.
    let ids = Ids::of_process();
    let entered = match how {
        How::NetworkOnly => network_only(ids)?,
        How::UserAndNetwork => user_and_network(ids)?,
        How::Auto if ids.euid != 0 => user_and_network(ids)?,
        How::Auto => match network_only(ids) {
            Err(refused) if refused.errno == libc::EPERM => {
                user_and_network(ids).map_err(|_| refused)?
            }
            other => other?,
        },
    };
    loopback_up().map_err(|err| ids.refused(Step::Loopback, &err))?;
    ENTERED.store(true, Ordering::SeqCst);
    Ok(entered)
}

/// The process's ids as they were outside any namespace netlab made.
#[derive(Debug, Clone, Copy)]
struct Ids {
    uid: u32,
    gid: u32,
    euid: u32,
}

impl Ids {
    fn of_process() -> Ids {
        let (uid, gid, euid) = sys::process_ids();
        Ids { uid, gid, euid }
    }

    fn refused(self, step: Step, err: &io::Error) -> Refused {
        let errno = err.raw_os_error().unwrap_or(0);
        Refused {
            step,
            errno,
            cause: diagnose(step, errno, &Machine::read(self.euid)),
        }
    }
}

fn network_only(ids: Ids) -> Result<Entered, Refused> {
    sys::unshare(libc::CLONE_NEWNET).map_err(|err| ids.refused(Step::NetworkNamespace, &err))?;
    Ok(Entered::Network)
}

fn user_and_network(ids: Ids) -> Result<Entered, Refused> {
    let Ids { uid, gid, .. } = ids;
    sys::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET)
        .map_err(|err| ids.refused(Step::UserNamespace, &err))?;
    // Without CAP_SETGID outside, gid_map may be written only once setgroups(2) is denied
    // (user_namespaces(7)); kernels before 3.19 have no such file and no such rule.
    match std::fs::write("/proc/self/setgroups", "deny") {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        other => other.map_err(|err| ids.refused(Step::IdMap("setgroups"), &err))?,
    }
    // Each map file takes exactly one write: one line, "inside outside count".
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1\n"))
        .map_err(|err| ids.refused(Step::IdMap("uid_map"), &err))?;
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1\n"))
        .map_err(|err| ids.refused(Step::IdMap("gid_map"), &err))?;
    Ok(Entered::UserAndNetwork { uid, gid })
}

/// `ip link set lo up`: a new network namespace's lo is down, and 127.0.0.1 unreachable.
fn loopback_up() -> io::Result<()> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    sys::set_interface_up(socket.as_fd(), "lo")
}

/// What this machine says about namespaces: the sysctls it has (None: no such file) and this
/// process's threads and seccomp mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Machine {
    /// The effective uid before any namespace was made.
    euid: u32,
    apparmor_restrict_unprivileged_userns: Option<u64>,
    unprivileged_userns_clone: Option<u64>,
    max_user_namespaces: Option<u64>,
    max_net_namespaces: Option<u64>,
    threads: Option<u32>,
    /// 0 none, 1 strict, 2 filter (proc(5)).
    seccomp: Option<u32>,
    has_user_namespaces: bool,
    has_net_namespaces: bool,
}

impl Machine {
    fn read(euid: u32) -> Machine {
        let sysctl = |name: &str| -> Option<u64> {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            std::fs::read_to_string(path).ok()?.trim().parse().ok()
        };
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let status_field = |field: &str| -> Option<u32> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
                .trim()
                .parse()
                .ok()
        };
        Machine {
            euid,
            apparmor_restrict_unprivileged_userns: sysctl(
                "kernel.apparmor_restrict_unprivileged_userns",
            ),
            unprivileged_userns_clone: sysctl("kernel.unprivileged_userns_clone"),
            max_user_namespaces: sysctl("user.max_user_namespaces"),
            max_net_namespaces: sysctl("user.max_net_namespaces"),
            threads: status_field("Threads"),
            seccomp: status_field("Seccomp"),
            has_user_namespaces: Path::new("/proc/self/ns/user").exists(),
            has_net_namespaces: Path::new("/proc/self/ns/net").exists(),
        }
    }
}

/// Tells why `step` failed with `errno` on `machine`.
fn diagnose(step: Step, errno: i32, machine: &Machine) -> Cause {
    let makes_userns = matches!(step, Step::UserNamespace | Step::IdMap(_));
    let unprivileged = machine.euid != 0;
    match errno {
        libc::ENOSPC | libc::EUSERS => {
            if makes_userns && machine.max_user_namespaces == Some(0) {
                Cause::LimitZero("user.max_user_namespaces")
            } else if machine.max_net_namespaces == Some(0) {
                Cause::LimitZero("user.max_net_namespaces")
            } else {
                Cause::LimitReached
            }
        }
        libc::EINVAL => {
            if makes_userns && machine.threads.is_some_and(|n| n > 1) {
                Cause::Threads(machine.threads.unwrap_or(0))
            } else if makes_userns && !machine.has_user_namespaces {
                Cause::NoKernelSupport("user")
            } else if !machine.has_net_namespaces {
                Cause::NoKernelSupport("network")
            } else {
                Cause::Unknown
            }
        }
        libc::EPERM | libc::EACCES => {
            if unprivileged && machine.apparmor_restrict_unprivileged_userns == Some(1) {
                Cause::AppArmor
            } else if unprivileged && machine.unprivileged_userns_clone == Some(0) {
                Cause::UnprivilegedUsernsClone
            } else if machine.seccomp == Some(2)
                && matches!(step, Step::NetworkNamespace | Step::UserNamespace)
            {
                Cause::Seccomp
            } else if !unprivileged {
                Cause::NoCapability
            } else {
                Cause::Unknown
            }
        }
        _ => Cause::Unknown,
    }
}

impl Refused {
    /// The sentence in English and Chinese.
    pub fn text(&self) -> Text {
        let errno = crate::errno::lookup(self.errno)
            .symbol
            .map_or_else(|| format!("errno {}", self.errno), str::to_string);
        let (what_en, what_zh) = match self.step {
            Step::NetworkNamespace => (
                "the kernel refused to create a network namespace".to_string(),
                "内核拒绝创建网络命名空间".to_string(),
            ),
            Step::UserNamespace => (
                "the kernel refused to create a user namespace with a network namespace"
                    .to_string(),
                "内核拒绝创建用户命名空间及其网络命名空间".to_string(),
            ),
            Step::IdMap(file) => (
                format!("the kernel refused to map netlab's user id into its new user namespace (writing /proc/self/{file})"),
                format!("内核拒绝把 netlab 的用户 ID 映射进新的用户命名空间（写 /proc/self/{file} 失败）"),
            ),
            Step::Loopback => (
                "the kernel refused to bring up lo in the new network namespace".to_string(),
                "内核拒绝在新的网络命名空间里启用 lo".to_string(),
            ),
        };
        let (why_en, why_zh) = self.cause_text();
        Text::new(
            format!("--wire needs a private network namespace, but {what_en} ({errno}) {why_en}."),
            format!("--wire 需要一个私有的网络命名空间，但{what_zh}（{errno}）：{why_zh}。"),
        )
    }

    /// "because ...; ... allows it", in both languages.
    fn cause_text(&self) -> (String, String) {
        match &self.cause {
            Cause::AppArmor => (
                "because kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu's AppArmor \
                 restriction on unprivileged user namespaces); running netlab as root, or \
                 `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, allows it"
                    .into(),
                "原因是 kernel.apparmor_restrict_unprivileged_userns=1（Ubuntu 用 AppArmor \
                 限制普通用户创建用户命名空间）；以 root 运行 netlab，或执行 \
                 `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`，即可"
                    .into(),
            ),
            Cause::UnprivilegedUsernsClone => (
                "because kernel.unprivileged_userns_clone=0; running netlab as root, or \
                 `sudo sysctl kernel.unprivileged_userns_clone=1`, allows it"
                    .into(),
                "原因是 kernel.unprivileged_userns_clone=0；以 root 运行 netlab，或执行 \
                 `sudo sysctl kernel.unprivileged_userns_clone=1`，即可"
                    .into(),
            ),
            Cause::LimitZero(sysctl) => {
                let fix = format!("`sudo sysctl {sysctl}=1000`");
                if *sysctl == "user.max_user_namespaces" {
                    (
                        format!("because {sysctl}=0; running netlab as root, or {fix}, allows it"),
                        format!("原因是 {sysctl}=0；以 root 运行 netlab，或执行 {fix}，即可"),
                    )
                } else {
                    (
                        format!("because {sysctl}=0; {fix} allows it"),
                        format!("原因是 {sysctl}=0；执行 {fix} 即可"),
                    )
                }
            }
            Cause::LimitReached => (
                "because this user has as many namespaces as user.max_user_namespaces and \
                 user.max_net_namespaces allow; raising them, or ending processes that hold \
                 namespaces, allows it"
                    .into(),
                "原因是该用户的命名空间数已达 user.max_user_namespaces 与 \
                 user.max_net_namespaces 的上限；调高上限，或结束占用命名空间的进程，即可"
                    .into(),
            ),
            Cause::Threads(n) => (
                format!(
                    "because the process already has {n} threads and a user namespace can only \
                     be made by a single-threaded process; entering it first thing in main, \
                     before any thread starts, allows it"
                ),
                format!(
                    "原因是进程已有 {n} 个线程，而只有单线程进程才能创建用户命名空间；\
                     在 main 一开始、任何线程启动之前进入命名空间即可"
                ),
            ),
            Cause::NoKernelSupport(kind) => {
                let option = if *kind == "user" {
                    "CONFIG_USER_NS"
                } else {
                    "CONFIG_NET_NS"
                };
                let kind_zh = if *kind == "user" { "用户" } else { "网络" };
                (
                    format!("because this kernel was built without {kind} namespaces; a kernel with {option}=y allows it"),
                    format!("原因是这个内核编译时没有{kind_zh}命名空间；换用 {option}=y 的内核即可"),
                )
            }
            Cause::Seccomp => (
                "because a seccomp filter refuses unshare (a container's profile, such as \
                 Docker's default); running the container with a seccomp profile that allows \
                 unshare, or running netlab outside the container, allows it"
                    .into(),
                "原因是 seccomp 过滤器拒绝了 unshare（例如 Docker 的默认配置）；\
                 给容器换一个允许 unshare 的 seccomp 配置，或在容器外运行 netlab，即可"
                    .into(),
            ),
            Cause::NoCapability => (
                "because this process lacks CAP_SYS_ADMIN (a container without it, say); \
                 running netlab with that capability, or as an ordinary user where user \
                 namespaces are allowed, allows it"
                    .into(),
                "原因是进程没有 CAP_SYS_ADMIN 能力（例如在不给此能力的容器里）；\
                 赋予该能力，或在允许用户命名空间的系统上以普通用户运行 netlab，即可"
                    .into(),
            ),
            Cause::Unknown => (
                "for a reason this machine does not tell; see unshare(2) and \
                 user_namespaces(7) for what allows it"
                    .into(),
                "原因无法从本机判断；允许的条件见 unshare(2) 与 user_namespaces(7)".into(),
            ),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}

impl std::error::Error for Refused {}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Machine {
        Machine {
            euid: 1000,
            max_user_namespaces: Some(96365),
            max_net_namespaces: Some(96365),
            threads: Some(1),
            seccomp: Some(0),
            has_user_namespaces: true,
            has_net_namespaces: true,
            ..Machine::default()
        }
    }

    #[test]
    fn ubuntus_apparmor_restriction_is_named_with_its_sysctl() {
        let machine = Machine {
            apparmor_restrict_unprivileged_userns: Some(1),
            ..user()
        };
        for step in [Step::UserNamespace, Step::IdMap("uid_map"), Step::Loopback] {
            assert_eq!(diagnose(step, libc::EPERM, &machine), Cause::AppArmor);
        }
        let refused = Refused {
            step: Step::UserNamespace,
            errno: libc::EPERM,
            cause: Cause::AppArmor,
        };
        let text = refused.to_string();
        assert!(text.contains("(EPERM)"), "{text}");
        assert!(
            text.contains("kernel.apparmor_restrict_unprivileged_userns=1"),
            "{text}"
        );
        assert!(text.ends_with("allows it."), "{text}");
        assert_eq!(text.lines().count(), 1);
        assert!(refused
            .text()
            .zh
            .contains("kernel.apparmor_restrict_unprivileged_userns"));
    }

    #[test]
    fn a_zero_limit_names_the_sysctl_that_is_zero() {
        let no_users = Machine {
            max_user_namespaces: Some(0),
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::ENOSPC, &no_users),
            Cause::LimitZero("user.max_user_namespaces")
        );
        let no_nets = Machine {
            max_net_namespaces: Some(0),
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::ENOSPC, &no_nets),
            Cause::LimitZero("user.max_net_namespaces")
        );
        // Root makes no user namespace: only the network limit can stop it.
        let both = Machine {
            euid: 0,
            max_user_namespaces: Some(0),
            max_net_namespaces: Some(0),
            ..user()
        };
        assert_eq!(
            diagnose(Step::NetworkNamespace, libc::ENOSPC, &both),
            Cause::LimitZero("user.max_net_namespaces")
        );
        assert_eq!(
            diagnose(Step::UserNamespace, libc::ENOSPC, &user()),
            Cause::LimitReached
        );
    }

    #[test]
    fn einval_with_threads_is_the_threads_and_without_support_the_kernel() {
        let threaded = Machine {
            threads: Some(3),
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::EINVAL, &threaded),
            Cause::Threads(3)
        );
        let old_kernel = Machine {
            has_user_namespaces: false,
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::EINVAL, &old_kernel),
            Cause::NoKernelSupport("user")
        );
    }

    #[test]
    fn eperm_tells_debians_switch_a_seccomp_filter_and_root_without_the_capability() {
        let debian = Machine {
            unprivileged_userns_clone: Some(0),
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::EPERM, &debian),
            Cause::UnprivilegedUsernsClone
        );
        let container = Machine {
            seccomp: Some(2),
            ..user()
        };
        assert_eq!(
            diagnose(Step::UserNamespace, libc::EPERM, &container),
            Cause::Seccomp
        );
        let root = Machine { euid: 0, ..user() };
        assert_eq!(
            diagnose(Step::NetworkNamespace, libc::EPERM, &root),
            Cause::NoCapability
        );
        assert_eq!(
            diagnose(Step::UserNamespace, libc::EPERM, &user()),
            Cause::Unknown
        );
    }

    #[test]
    fn every_cause_reads_as_one_sentence_in_both_languages() {
        let causes = [
            Cause::AppArmor,
            Cause::UnprivilegedUsernsClone,
            Cause::LimitZero("user.max_user_namespaces"),
            Cause::LimitZero("user.max_net_namespaces"),
            Cause::LimitReached,
            Cause::Threads(2),
            Cause::NoKernelSupport("user"),
            Cause::NoKernelSupport("network"),
            Cause::Seccomp,
            Cause::NoCapability,
            Cause::Unknown,
        ];
        for cause in causes {
            let text = Refused {
                step: Step::NetworkNamespace,
                errno: libc::EPERM,
                cause,
            }
            .text();
            for sentence in [&text.en, &text.zh] {
                assert_eq!(sentence.lines().count(), 1, "{sentence}");
                assert!(!sentence.contains("  "), "{sentence}");
            }
            assert!(text.en.starts_with("--wire needs") && text.en.ends_with('.'));
            assert!(text.zh.ends_with('。'));
        }
    }
}
