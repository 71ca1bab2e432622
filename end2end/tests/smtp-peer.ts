import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
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

  /** The subjects of the messages the peer accepted for `to`. */
  subjectsTo(to: string): string[] {
    return readdirSync(this.spool)
      .filter((f) => f.endsWith(".json"))
      .flatMap((f) => {
        const envelope = JSON.parse(readFileSync(resolve(this.spool, f), "utf8"));
        if (!envelope.rcpt_tos.some((r: string) => r.toLowerCase() === to.toLowerCase())) return [];
        const raw = readFileSync(resolve(this.spool, f.replace(/\.json$/, ".eml")), "utf8");
        return [/^Subject: (.*)$/m.exec(raw)?.[1] ?? ""];
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
