import { z } from "zod";
import { CLOUDS, MAIL_TRANSPORTS, MAILBOX_TYPES, SIGN_IN_METHODS, TOKEN_PURPOSES } from "@/lib/engine/settings";
import { STEP_LABELS } from "@/lib/engine/steps";

// The shapes of /api/v1: the route handlers parse and answer with these, and the OpenAPI document is
// generated from the very same schemas.

const timestamp = z.iso.datetime().describe("UTC time, ISO 8601");
const stepNames = Object.keys(STEP_LABELS) as [keyof typeof STEP_LABELS, ...(keyof typeof STEP_LABELS)[]];

export const problemSchema = z
  .object({
    type: z.string().describe("A URI naming the kind of problem"),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z
      .string()
      .optional()
      .describe("The diagnosis code, when Microsoft or a mail server refused (e.g. AADSTS50126)"),
    errors: z.record(z.string(), z.array(z.string())).optional().describe("Messages per request field"),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const mailboxSummarySchema = z
  .object({
    id: z.int(),
    name: z.string(),
    type: z.enum(MAILBOX_TYPES),
    transport: z
      .enum(MAIL_TRANSPORTS)
      .describe("How the mailbox moves mail: SMTP and IMAP with XOAUTH2, or Microsoft Graph (sendMail, the inbox)"),
    login: z.string().describe("Who signs in (the setup guide's Login)"),
    mailbox: z.string().describe("The mailbox read and tested: a shared mailbox, or the Login's own"),
    send_as: z.string().describe("The From address: an alias or shared mailbox with Send As, or the Mailbox"),
    sign_in_method: z
      .enum(SIGN_IN_METHODS)
      .describe(
        "basic: a plain password; password: the setup guide's password grant (retiring: blocked by MFA); device: a Microsoft sign-in; app: app-only",
      ),
    updated_at: timestamp,
  })
  .meta({ id: "MailboxSummary" });

export const mailboxListSchema = z
  .object({
    items: z.array(mailboxSummarySchema),
    next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page"),
  })
  .meta({ id: "MailboxList" });

const server = z.object({ host: z.string(), port: z.int() }).nullable();

export const mailboxDetailSchema = mailboxSummarySchema
  .extend({
    smtp: server,
    imap: server,
    use_tls: z.boolean(),
    azure: z.object({ client_id: z.string(), tenant_id: z.string(), cloud: z.enum(CLOUDS) }).nullable(),
    sign_in: z
      .object({
        state: z.enum(["signed-in", "awaiting-sign-in", "sign-in-again"]),
        account: z.string().nullable(),
      })
      .nullable()
      .describe("The Microsoft sign-in of a device-code mailbox; null for other methods"),
    credential_expires_at: timestamp.nullable().describe("When the app-only secret or certificate expires"),
    last_test: z
      .object({
        id: z.int(),
        outcome: z.enum(["passed", "failed"]),
        finished_at: timestamp,
        failure_code: z.string().nullable(),
      })
      .nullable(),
    version: z.int(),
  })
  .meta({ id: "MailboxDetail", description: "A mailbox's settings; secrets are never part of it" });

export const tokenRequestSchema = z
  .strictObject({
    purpose: z
      .enum(TOKEN_PURPOSES)
      .optional()
      .describe(
        "Narrows the token to one use: `smtp` or `imap` (Exchange Online), or `graph` (Microsoft Graph's Mail.Send and Mail.ReadWrite); a key limited to one purpose may ask only for it",
      ),
  })
  .meta({ id: "TokenRequest" });

export const tokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_at: timestamp,
    scope: z
      .string()
      .describe(
        "What the token can do, as it says itself: its delegated `scp` (e.g. `SMTP.Send IMAP.AccessAsUser.All`) or its application `roles`; a cached token may carry more than the purpose asked for",
      ),
    xoauth2_user: z
      .string()
      .describe(
        "The user to name in SASL XOAUTH2 for the purpose asked: SMTP's is the Login (the Mailbox for app-only), IMAP's the Mailbox",
      ),
    mailbox: z.string().describe("The mailbox to open: IMAP's XOAUTH2 user, Graph's /users/{mailbox}"),
  })
  .meta({ id: "TokenResponse" });

export const testRequestSchema = z.strictObject({}).meta({ id: "TestRequest" });

/** What the send operation takes: the request body is at most this large, attachments included. */
export const SEND_LIMITS = { bodyBytes: 3 * 1024 * 1024, recipients: 100, attachments: 20 };

const address = z.email({ error: "Enter an email address." }).max(254);
const addresses = (max: number) => z.array(address).max(max, `At most ${max} addresses.`);
const oneLine = /^[^\r\n\0]*$/;

export const sendMessageRequestSchema = z
  .strictObject({
    to: addresses(SEND_LIMITS.recipients).min(1, "Name at least one recipient."),
    cc: addresses(SEND_LIMITS.recipients).optional(),
    bcc: addresses(SEND_LIMITS.recipients).optional(),
    reply_to: addresses(10).optional(),
    subject: z.string().max(998).regex(oneLine, "The subject is one line."),
    text: z.string().optional().describe("The plain-text body"),
    html: z.string().optional().describe("The HTML body; Microsoft Graph sends only this one when both are given"),
    headers: z
      .record(
        z.string().regex(/^X-[A-Za-z0-9-]{1,70}$/i, "Only custom headers (X-…) may be set."),
        z.string().max(998).regex(oneLine, "A header value is one line."),
      )
      .optional(),
    attachments: z
      .array(
        z.strictObject({
          filename: z
            .string()
            .min(1)
            .max(255)
            .regex(/^[^/\\\0\r\n]+$/, "A file name without path or line breaks."),
          content_type: z
            .string()
            .regex(/^[\w.+-]+\/[\w.+-]+$/, "A media type such as application/pdf.")
            .default("application/octet-stream"),
          content_base64: z.base64("The content in base64."),
        }),
      )
      .max(SEND_LIMITS.attachments)
      .optional(),
  })
  .refine((m) => m.text !== undefined || m.html !== undefined, { message: "Give text, html or both.", path: ["text"] })
  .refine((m) => m.to.length + (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) <= SEND_LIMITS.recipients, {
    message: `At most ${SEND_LIMITS.recipients} recipients in to, cc and bcc together.`,
    path: ["to"],
  })
  .meta({ id: "SendMessageRequest" });

export const sendMessageResponseSchema = z
  .object({
    id: z.string().describe("The message's Message-ID, as the recipients see it"),
    status: z.literal("accepted").describe("The mailbox's server accepted it for delivery"),
    transport: z.enum(MAIL_TRANSPORTS),
    accepted_at: timestamp,
  })
  .meta({ id: "SendMessageResponse" });

const diagnosisSchema = z.object({
  code: z.string(),
  cause: z.string(),
  fix: z.string(),
  setupStep: z.string(),
  detail: z.string().optional(),
  command: z.string().optional().describe("A line to run that fixes it, with this mailbox's own values"),
});

export const stepSchema = z
  .object({
    name: z.enum(stepNames),
    status: z.enum(["passed", "failed", "skipped"]),
    durationMs: z.number(),
    summary: z.string(),
    diagnosis: diagnosisSchema.optional(),
    tls: z
      .object({ version: z.string(), cipher: z.string() })
      .optional()
      .describe("The TLS the step's connection negotiated (e.g. TLSv1.3)"),
    metrics: z.record(z.string(), z.number()).optional(),
  })
  .meta({ id: "Step" });

export const testResultSchema = z
  .object({
    mailbox: z.object({ id: z.int(), name: z.string(), tenant: z.string() }),
    testId: z.int(),
    ok: z.boolean(),
    durationMs: z.number(),
    steps: z.array(stepSchema),
  })
  .meta({ id: "TestResult", description: "The same JSON as `npm run check -- <mailbox> --json`" });

export const testEventSchema = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("plan"),
      testId: z.int(),
      steps: z.array(z.object({ name: z.enum(stepNames), label: z.string() })),
    }),
    z.object({ type: z.literal("step"), step: stepSchema }),
    z.object({
      type: z.literal("done"),
      testId: z.int(),
      ok: z.boolean(),
      durationMs: z.number(),
      arrivalMs: z.number().nullable(),
    }),
  ])
  .meta({ id: "TestEvent", description: "One line of the application/x-ndjson stream" });

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,20}$/, "Use the next_cursor of the previous page.")
    .optional(),
});
