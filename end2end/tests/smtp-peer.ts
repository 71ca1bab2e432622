import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

/** The real SMTP server on loopback (scripts/smtp_peer.py, aiosmtpd in target/smtp-venv). */
export class SmtpPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: Record<string, number>,
    readonly caPem: string,
    readonly spool: string,
  ) {}

  static start(): Promise<SmtpPeer> {
    const python = process.env.MAILROOM_SMTP_PYTHON ?? resolve(ROOT, "target/smtp-venv/bin/python");
    const child = spawn(python, [resolve(ROOT, "scripts/smtp_peer.py")], { stdio: ["pipe", "pipe", "inherit"] });
    return new Promise((resolvePromise, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) {
          const info = JSON.parse(out.slice(0, nl));
          resolvePromise(new SmtpPeer(child, info.ports, readFileSync(info.ca_pem, "utf8"), info.spool));
        }
      });
      child.on("exit", (code) => reject(new Error(`SMTP peer exited with ${code}`)));
      child.on("error", reject);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolvePromise) => {
      if (this.child.exitCode !== null) return resolvePromise();
      this.child.once("exit", () => resolvePromise());
      this.child.kill("SIGTERM");
    });
  }
}
