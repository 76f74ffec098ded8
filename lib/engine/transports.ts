import { graphReceiveTransport, graphSendTransport } from "./graph";
import { imapTransport } from "./imap";
import { smtpTransport } from "./smtp";
import type { Transport } from "./transport";

/** Every way the engine moves mail, in the order their steps run and are reported. */
export const TRANSPORTS = {
  smtp: smtpTransport,
  imap: imapTransport,
  graph_send: graphSendTransport,
  graph_receive: graphReceiveTransport,
} satisfies Record<string, Transport>;

export type TransportName = keyof typeof TRANSPORTS;
