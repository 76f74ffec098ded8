import { z } from "zod";
import {
  listQuerySchema,
  mailboxDetailSchema,
  mailboxListSchema,
  mailboxSummarySchema,
  problemSchema,
  SEND_LIMITS,
  sendMessageRequestSchema,
  sendMessageResponseSchema,
  stepSchema,
  testEventSchema,
  testRequestSchema,
  testResultSchema,
  tokenRequestSchema,
  tokenResponseSchema,
} from "./schemas";

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ "application/json": { schema: ref(id) } });
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});

const COMMON_ERRORS = {
  "400": problem("The request is malformed or has unknown fields; `errors` names them"),
  "401": problem("No key, a malformed, unknown, revoked or expired key"),
  "403": problem("The key lacks the scope this operation needs"),
  "404": problem("No such mailbox for this key (another tenant's mailboxes are not found either)"),
  "429": problem("Too many requests, or a credential cool-down; see Retry-After"),
};

const BODY_ERRORS = {
  "413": problem("The body is larger than 64 KiB"),
  "415": problem("The body is not application/json"),
};

const mailboxId = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } };

/** The OpenAPI 3.1 description of /api/v1, generated from the zod schemas the routes use. */
export function openApiDocument(serverUrl: string) {
  const registry = z.registry<{ id: string }>();
  for (const schema of [
    problemSchema,
    mailboxSummarySchema,
    mailboxListSchema,
    mailboxDetailSchema,
    tokenRequestSchema,
    tokenResponseSchema,
    sendMessageRequestSchema,
    sendMessageResponseSchema,
    testRequestSchema,
    stepSchema,
    testResultSchema,
    testEventSchema,
  ]) {
    const id = z.globalRegistry.get(schema)?.id;
    if (id) registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  for (const schema of Object.values(schemas)) delete schema.$schema;
  const query = z.toJSONSchema(listQuerySchema, { target: "draft-2020-12", io: "input" }) as {
    properties: Record<string, Record<string, unknown>>;
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "Navigator Mail API",
      version: "1.0.0",
      description:
        "For the business system that sends and receives mail through Microsoft 365: mailbox settings, short-lived access tokens for SMTP and IMAP XOAUTH2 and Microsoft Graph, sending a message through a mailbox, and end-to-end tests. Authenticate with a tenant's API key: `Authorization: Bearer nvm_…`.",
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key from the tenant's API keys tab (nvm_…)" },
      },
      schemas,
    },
    paths: {
      "/mailboxes": {
        get: {
          operationId: "listMailboxes",
          summary: "The mailboxes this key may see, a page at a time (scope mailboxes:read)",
          parameters: [
            { name: "limit", in: "query", required: false, schema: query.properties.limit },
            { name: "cursor", in: "query", required: false, schema: query.properties.cursor },
          ],
          responses: { "200": { description: "A page of mailboxes", content: json("MailboxList") }, ...COMMON_ERRORS },
        },
      },
      "/mailboxes/{id}": {
        get: {
          operationId: "getMailbox",
          summary: "A mailbox's settings without secrets, its sign-in and its last test (scope mailboxes:read)",
          parameters: [mailboxId],
          responses: { "200": { description: "The mailbox", content: json("MailboxDetail") }, ...COMMON_ERRORS },
        },
      },
      "/mailboxes/{id}/token": {
        post: {
          operationId: "issueToken",
          summary: "A fresh access token for SMTP/IMAP XOAUTH2 (scope tokens:issue)",
          description:
            "From the cache while the token has more than five minutes left, renewed with the stored refresh token, or with the mailbox's own flow. The refresh token is never returned.",
          parameters: [mailboxId],
          requestBody: { required: false, content: json("TokenRequest") },
          responses: {
            "200": { description: "The token", content: json("TokenResponse") },
            "422": problem(
              "The mailbox has no token to issue (plain password login) or the purpose does not fit its Type",
            ),
            "502": problem(
              "Microsoft Entra ID refused or did not answer; `code` names the diagnosis. A refusal is answered again from its record for a minute, with Retry-After",
            ),
            ...COMMON_ERRORS,
            ...BODY_ERRORS,
            "403": problem(
              "The key lacks tokens:issue; or it is limited to one purpose and another was asked for, or the only token for the mailbox also carries another protocol's permission (named); or Microsoft issued the token in another organisation than the tenant is bound to (`code` DIRECTORY_NOT_ALLOWED)",
            ),
          },
        },
      },
      "/mailboxes/{id}/messages": {
        post: {
          operationId: "sendMessage",
          summary: "Sends one message through the mailbox (scope mail:send)",
          description: `Through the mailbox's own transport: SMTP with XOAUTH2, or Microsoft Graph's sendMail; the business system never holds a token. The request body is at most ${SEND_LIMITS.bodyBytes / 1024 / 1024} MiB (attachments in base64 included), with at most ${SEND_LIMITS.recipients} recipients and ${SEND_LIMITS.attachments} attachments. A mailbox sends at most 30 messages a minute (Exchange Online's limit), counted across every instance. With an Idempotency-Key, the same request within 24 hours is answered as the first time (header Idempotent-Replayed: true) and sends nothing.`,
          parameters: [
            mailboxId,
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", minLength: 1, maxLength: 255 },
              description: "Any unique string of printable characters (a UUID); kept 24 hours per API key",
            },
          ],
          requestBody: { required: true, content: json("SendMessageRequest") },
          responses: {
            "202": {
              description: "Accepted by the mailbox's server for delivery",
              content: json("SendMessageResponse"),
            },
            "409": problem("A request with this Idempotency-Key is still sending"),
            "413": problem(`The body is larger than ${SEND_LIMITS.bodyBytes / 1024 / 1024} MiB`),
            "415": problem("The body is not application/json"),
            "422": problem(
              "The mailbox does not send (Type IMAP), cannot send as it is (`code` names what is missing), or the Idempotency-Key was used for another request",
            ),
            "502": problem(
              "Microsoft Entra ID, Microsoft Graph or the SMTP server refused; `code` names the diagnosis",
            ),
            ...COMMON_ERRORS,
            "429": problem("The mailbox sent 30 messages in the last minute; see Retry-After"),
          },
        },
      },
      "/mailboxes/{id}/tests": {
        post: {
          operationId: "runTest",
          summary: "Runs the same test as the portal's button (scope tests:run)",
          description: "With `Accept: application/x-ndjson` each step is streamed as one line as it finishes.",
          parameters: [mailboxId],
          requestBody: { required: false, content: json("TestRequest") },
          responses: {
            "200": {
              description: "The finished test (a failed test is still 200, with ok false)",
              content: {
                "application/json": { schema: ref("TestResult") },
                "application/x-ndjson": { schema: ref("TestEvent") },
              },
            },
            "409": problem("A test of this mailbox is already running"),
            "422": problem("The mailbox may not be tested as it is"),
            ...COMMON_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
    },
  };
}
