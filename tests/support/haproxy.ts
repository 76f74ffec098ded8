import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";

// Debian installs it in /usr/sbin, which a non-root PATH may lack.
const HAPROXY = fs.existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy";

/**
 * HAProxy in the foreground with the sample configuration (deploy/haproxy.cfg), as an operator runs
 * it: listening on `listen` (host:port), balancing over `servers` (host:port each, PORTAL_1, PORTAL_2…).
 */
export function startHaproxy(listen: string, servers: string[]): ChildProcess {
  const addresses = Object.fromEntries(servers.map((server, i) => [`PORTAL_${i + 1}`, server]));
  return spawn(HAPROXY, ["-f", "deploy/haproxy.cfg", "-db"], {
    env: { ...process.env, LISTEN: listen, ...addresses },
    stdio: ["ignore", "inherit", "inherit"],
  });
}
