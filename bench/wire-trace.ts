// What the bench sees on the wire and in SQLite, without a hook in the portal's code: the time each
// mail socket connects and finishes TLS, the time each SMTP or IMAP command is written, and the time
// spent in SQLite statements. Only bench/check.ts loads it.
import { createRequire } from "node:module";
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { Writable } from "node:stream";
import tls from "node:tls";

export type WireMark = { at: number; protocol: "smtp" | "imap"; socket: number; what: string };

const SMTP_PORTS = new Set([25, 465, 587]);
const IMAP_PORTS = new Set([143, 993]);
const marks: WireMark[] = [];
const ids = new WeakMap<object, number>();
let nextId = 0;

function protocolOf(port: number | undefined): WireMark["protocol"] | null {
  if (port === undefined) return null;
  return SMTP_PORTS.has(port) ? "smtp" : IMAP_PORTS.has(port) ? "imap" : null;
}

function mark(socket: net.Socket, port: number | undefined, what: string, id?: number): void {
  const protocol = protocolOf(port ?? socket.remotePort);
  if (!protocol) return;
  const socketId = id ?? ids.get(socket) ?? ids.get((socket as { _parent?: object })._parent ?? {}) ?? -1;
  marks.push({ at: performance.now(), protocol, socket: socketId, what });
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  // net.connect passes its arguments on as one array.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = (typeof first === "object" ? first : { port: first }) as { port?: number };
  const port = Number(options.port);
  if (protocolOf(port)) {
    const id = nextId++;
    ids.set(this, id);
    mark(this, port, "open", id);
    this.once("connect", () => mark(this, port, "connect", id));
    this.once("secureConnect", () => mark(this, port, "tls", id));
    readsOf(this, port, id);
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

/** Each chunk read: "read done" when it completes a command (an IMAP tagged answer, any SMTP reply). */
function readsOf(socket: net.Socket, port: number | undefined, id: number): void {
  socket.on("data", (chunk: Buffer | string) => {
    const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    const done = protocolOf(port) === "smtp" || /(^|\r\n)[A-Z]?\d+ (OK|NO|BAD)/.test(text);
    mark(socket, port, done ? "read done" : "read", id);
  });
}

const tlsConnect = tls.connect;
(tls as { connect: unknown }).connect = (...args: unknown[]) => {
  const socket = (tlsConnect as (...a: unknown[]) => tls.TLSSocket)(...args);
  const under = (args[0] as { socket?: net.Socket } | undefined)?.socket;
  if (under && ids.has(under)) {
    const id = ids.get(under)!;
    ids.set(socket, id);
    socket.once("secureConnect", () => mark(socket, under.remotePort, "tls", id));
    readsOf(socket, under.remotePort, id);
  }
  return socket;
};

// Plain text before TLS and inside it: the command is the line's first word (IMAP: after the tag).
// Duplex copies Writable's write onto itself, so the socket's own prototype is patched.
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (this: Writable, chunk: unknown, ...rest: unknown[]) {
  if (this instanceof net.Socket && ids.has(this) && (typeof chunk === "string" || Buffer.isBuffer(chunk))) {
    const text = (typeof chunk === "string" ? chunk : chunk.toString("latin1", 0, 48)).trimStart();
    const protocol = protocolOf(this.remotePort);
    const words = text.split(/[\s\r\n]+/);
    const command = (protocol === "imap" ? words[1] : words[0])?.toUpperCase() ?? "";
    if (/^[A-Z]{3,12}$/.test(command)) mark(this, this.remotePort, `write ${command}`);
  }
  return (write as (...a: unknown[]) => boolean).apply(this, [chunk, ...rest]);
} as typeof net.Socket.prototype.write;

/** The marks since the last call, and a fresh start. */
export function takeMarks(): WireMark[] {
  if (process.env.BENCH_TRACE) console.log(marks.map((m) => `${m.protocol}#${m.socket} ${m.what} ${m.at.toFixed(1)}`));
  return marks.splice(0);
}

let sqliteMs = 0;
/** Milliseconds spent in SQLite statements since the last call. */
export function takeSqliteMs(): number {
  const spent = sqliteMs;
  sqliteMs = 0;
  return spent;
}
const require = createRequire(import.meta.url);
{
  const Database = require("better-sqlite3") as new (file: string) => { prepare(sql: string): object; close(): void };
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method]!;
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        sqliteMs += performance.now() - started;
      }
    };
  }
}

/**
 * The phases of one test from its marks, each from a command written until the answer that completes
 * it: connect; the greeting (and EHLO); TLS; the sign-in (AUTH, AUTHENTICATE); SMTP's message (MAIL
 * to the reply after the last byte); IMAP's set-up after sign-in (NAMESPACE, ENABLE, LIST) and SELECT.
 */
export function phasesOf(list: WireMark[], started: number, ended: number): Record<string, number> {
  const phases: Record<string, number> = {};
  const opened = list.find((m) => m.what === "open")?.at;
  if (opened !== undefined) phases["start to first connection"] = opened - started;
  const lastRead = list.findLast((m) => m.protocol === "imap" && m.what.startsWith("read"))?.at;
  if (lastRead !== undefined) phases["IMAP's last answer to done"] = ended - lastRead;
  const add = (name: string, ms: number | undefined) => {
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0) phases[name] = (phases[name] ?? 0) + ms;
  };
  const sockets = new Map<number, WireMark[]>();
  for (const m of list) sockets.set(m.socket, [...(sockets.get(m.socket) ?? []), m]);
  for (const socketMarks of sockets.values()) {
    const p = socketMarks[0]!.protocol;
    const index = (what: string) => socketMarks.findIndex((m) => m.what === what);
    const at = (what: string) => socketMarks[index(what)]?.at;
    const doneAfter = (i: number) =>
      i < 0 ? undefined : socketMarks.slice(i + 1).find((m) => m.what === "read done")?.at;
    const answered = (what: string) => doneAfter(index(what));
    const span = (from: number | undefined, to: number | undefined) =>
      from === undefined || to === undefined ? undefined : to - from;
    const firstWrite = socketMarks.find((m) => m.what.startsWith("write"))?.at;
    add(`${p} connect`, span(at("open"), at("connect")));
    if (p === "smtp") {
      add("smtp greeting and EHLO", span(at("connect"), at("write STARTTLS")));
      add("smtp TLS and EHLO", span(at("write STARTTLS"), at("write AUTH")));
      add("smtp AUTH", span(at("write AUTH"), answered("write AUTH")));
      const lastWrite = socketMarks.findLastIndex((m) => m.what.startsWith("write"));
      add("smtp MAIL to accepted", span(at("write MAIL"), doneAfter(lastWrite)));
    } else {
      add("imap TLS", span(at("connect"), at("tls")));
      add("imap greeting", span(at("tls"), firstWrite));
      add("imap AUTH", span(at("write AUTHENTICATE"), answered("write AUTHENTICATE")));
      add("imap NAMESPACE, ENABLE, LIST", span(answered("write AUTHENTICATE"), at("write SELECT")));
      add("imap SELECT", span(at("write SELECT"), answered("write SELECT")));
    }
  }
  return phases;
}
