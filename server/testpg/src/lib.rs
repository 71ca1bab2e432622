//! A real PostgreSQL cluster for tests and benchmarks, started from the machine's own binaries
//! (Debian's `postgresql` package: `initdb`, `pg_ctl`, `psql`) in a temporary directory.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then every command runs as the
//! `postgres` user through `runuser`, in a directory that user may write. The cluster listens
//! on a free loopback port and a unix socket in its directory, with `trust` authentication for
//! the loopback only.
//!
//! [`Cluster::shared`] is one cluster per process (a test binary), stopped and its directory
//! removed when the process ends however it ends: a watchdog shell waits on a pipe only this
//! process holds open.
//! [`Cluster::start`] is one of its own, stopped on drop (a test that restarts PostgreSQL).
//! [`Cluster::database`] gives each test a new, empty database.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock,
    },
};

/// A transaction kept open by [`Cluster::hold`]: rolled back when dropped.
pub struct Held {
    child: Child,
    _stdin: ChildStdin,
}

impl Drop for Held {
    fn drop(&mut self) {
        // psql's connection ends with it, and the server rolls its transaction back.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The shared cluster's watchdog: its stdin closes when this process ends.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// Where Debian keeps PostgreSQL's programs: `pg_config --bindir` when it is on the path, else
/// the newest `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin): run \
             `scripts/bootstrap.sh --test`, which installs Debian's postgresql package"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A free loopback port (bound, read, let go: PostgreSQL takes it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Cluster {
    /// A cluster of its own, stopped (immediately) when dropped.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("mailroom-pg-").tempdir().expect("a temporary directory");
        // The postgres user (when run as root) must write here.
        set_mode(dir.path(), 0o777);
        let cluster = Self {
            bin: bin_dir(),
            port: free_port(),
            watchdog: Mutex::new(None),
            dir,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// One cluster for this whole process, started on first use and stopped when the process
    /// exits (normally, by a panic or by a signal).
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let cluster = Self::start();
            // A static is never dropped: the watchdog, not the `TempDir`, removes the directory.
            // It runs as this user (who made the directory) and ignores the terminal's signals,
            // so an interrupted test run cleans up too.
            let as_postgres = if is_root() { "runuser -u postgres -- " } else { "" };
            let stop = format!(
                "trap '' INT HUP TERM; cat >/dev/null; {as_postgres}'{}' -D '{}' stop -m immediate >/dev/null 2>&1; \
                 exec rm -rf '{}'",
                cluster.bin.join("pg_ctl").display(),
                cluster.data_dir().display(),
                cluster.dir.path().display()
            );
            // It keeps this process's stdout open until the directory is gone: whoever reads
            // it (cargo, a parent test) sees its end only once the cluster is removed.
            let mut child = Command::new("sh")
                .args(["-c", &stop])
                .stdin(Stdio::piped())
                .stdout(Stdio::inherit())
                .stderr(Stdio::null())
                .spawn()
                .expect("the cluster's watchdog");
            let stdin = child.stdin.take().expect("the watchdog's stdin");
            *cluster.watchdog.lock().unwrap() = Some((child, stdin));
            cluster
        })
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        self.sql(&format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs `statements` in a transaction of database `url` (one of [`Self::database`]'s) and
    /// keeps it open, locks and all, until the [`Held`] is dropped (then it rolls back).
    pub fn hold(&self, url: &str, statements: &str) -> Held {
        use std::io::BufRead;
        let database = url.rsplit('/').next().expect("a database URL");
        let mut child = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &self.port.to_string(), "-d", database])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("psql");
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "BEGIN;\n{statements}\nSELECT 'held';").unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "held", "psql holding {statements:?}");
        Held { child, _stdin: stdin }
    }

    /// Runs one SQL statement in the `postgres` database; panics with psql's words if it fails.
    pub fn sql(&self, statement: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", statement])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql -c {statement:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Stops the server (fast: sessions are ended, then a clean shutdown).
    pub fn stop(&self) {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-w", "-m", "fast", "stop"]);
    }

    /// Starts it again on the same port with the same data.
    pub fn start_server(&self) {
        let data = self.data_dir();
        let log = self.dir.path().join("postgres.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c max_connections=400 \
             -c shared_buffers=64MB -c log_min_messages=warning",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-t", "60", "-o", &options, "start"],
        );
    }

    /// The cluster's files (its tables and write-ahead log).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` (a PostgreSQL one, or any other), as the postgres user when this is root.
    fn command(&self, program: &str) -> Command {
        let path = if program.contains('/') || !self.bin.join(program).exists() {
            PathBuf::from(program)
        } else {
            self.bin.join(program)
        };
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
            panic!(
                "{program} {args:?} failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        match self.watchdog.get_mut().map(Option::take) {
            // The watchdog stops it once its pipe closes; wait for that.
            Ok(Some((mut child, mut stdin))) => {
                let _ = stdin.flush();
                drop(stdin);
                let _ = child.wait();
            }
            _ => {
                let data = self.data_dir();
                let _ = self
                    .command("pg_ctl")
                    .args(["-D", data.to_str().unwrap(), "-w", "-m", "immediate", "stop"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod the cluster's directory");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_starts_serves_restarts_and_stops() {
        let cluster = Cluster::start();
        let url = cluster.database();
        let name = url.rsplit('/').next().unwrap().to_owned();
        assert_eq!(cluster.sql(&format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'")), "1");
        cluster.stop();
        cluster.start_server();
        assert_eq!(cluster.sql("SELECT 1"), "1");
        let data = cluster.data_dir();
        drop(cluster);
        assert!(!data.exists(), "its directory went with it");
    }

    /// The shared cluster is a static, never dropped: its directory (a gigabyte once a test
    /// binary has used it) must still go when the process ends. This test runs itself again
    /// as a child that starts the shared cluster and exits; the child's stdout ends when its
    /// watchdog has removed the directory.
    #[test]
    fn the_shared_cluster_is_stopped_and_removed_when_the_process_ends() {
        const CHILD: &str = "MAILROOM_TESTPG_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let cluster = Cluster::shared();
            assert_eq!(cluster.sql("SELECT 1"), "1");
            println!("cluster-dir={}", cluster.dir.path().display());
            return;
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "tests::the_shared_cluster_is_stopped_and_removed_when_the_process_ends"])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("the test binary again");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "the child: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        let dir = PathBuf::from(
            stdout
                .split_once("cluster-dir=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or_else(|| panic!("the child names its cluster's directory: {stdout}")),
        );
        assert!(!dir.exists(), "{} is still there after its process ended", dir.display());
    }
}
