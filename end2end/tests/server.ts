import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BINARY = resolve(__dirname, "../../target/release/mailroom");

export const ADMIN_EMAIL = "admin@example.com";
export const ADMIN_PASSWORD = "e2e-admin-password";

/** Data dirs that already have the admin. */
const withAdmin = new Set<string>();

/** A real `mailroom` release server on a free loopback port. */
export class MailroomServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    private readonly log: string[],
  ) {}

  /** Makes a fresh temporary data directory (removed by `removeDataDir`). */
  static tempDataDir(): string {
    return mkdtempSync(join(tmpdir(), "mailroom-e2e-"));
  }

  /** Creates the admin with the real CLI (`mailroom admin create`, password on stdin). */
  static createAdmin(dataDir: string) {
    const out = spawnSync(BINARY, ["admin", "create", "--email", ADMIN_EMAIL], {
      env: { ...process.env, MAILROOM_DATA_DIR: dataDir, NO_COLOR: "1" },
      input: ADMIN_PASSWORD + "\n",
      encoding: "utf8",
    });
    if (out.status !== 0) throw new Error(`admin create failed: ${out.stdout}${out.stderr}`);
    withAdmin.add(dataDir);
  }

  /** Starts the server (with the admin, unless `admin` is false) once it logs its address;
   * `env` adds to its environment (settings as configuration, say). */
  static start(dataDir: string, admin = true, env: Record<string, string> = {}): Promise<MailroomServer> {
    if (admin && !withAdmin.has(dataDir)) MailroomServer.createAdmin(dataDir);
    const child = spawn(BINARY, [], {
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: "127.0.0.1:0",
        MAILROOM_DATA_DIR: dataDir,
        RUST_LOG: "info",
        NO_COLOR: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log: string[] = [];
    return new Promise((resolvePromise, reject) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        log.push(text);
        const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(text);
        if (m) resolvePromise(new MailroomServer(child, m[1], dataDir, log));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("exit", (code) => reject(new Error(`mailroom exited with ${code} before listening:\n${log.join("")}`)));
      child.on("error", reject);
    });
  }

  /** Everything the server printed so far. */
  output(): string {
    return this.log.join("");
  }

  /** SIGTERM, then waits for the graceful shutdown (which flushes sled). */
  stop(): Promise<number | null> {
    return new Promise((resolvePromise) => {
      if (this.child.exitCode !== null) return resolvePromise(this.child.exitCode);
      this.child.once("exit", (code) => resolvePromise(code));
      this.child.kill("SIGTERM");
    });
  }

  static removeDataDir(dir: string) {
    rmSync(dir, { recursive: true, force: true });
  }
}
