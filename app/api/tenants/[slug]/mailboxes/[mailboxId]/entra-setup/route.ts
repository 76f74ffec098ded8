import { z } from "zod";
import { refusalResponse } from "@/app/_lib/refusal-response";
import { readJsonBody } from "@/lib/json-body";
import { startEntraSetup } from "@/lib/service/entra-setups";
import { type MailboxRouteParams, withMailbox } from "../sign-in/with-mailbox";

export const dynamic = "force-dynamic";

const startSchema = z.object({
  directory: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|([a-z0-9-]+\.)+[a-z]{2,63})$/,
      "Enter your organisation's domain (contoso.onmicrosoft.com) or its Directory (tenant) ID.",
    )
    .max(253),
  appName: z.string().trim().min(1, "Name the app registration.").max(120, "Use at most 120 characters."),
});

/** "Set up in Microsoft Entra for me": answers with the code to enter as soon as Entra gives it. */
export async function POST(request: Request, context: { params: Promise<MailboxRouteParams> }) {
  const json = await readJsonBody(request);
  if (!json.ok) return json.response;
  const input = startSchema.safeParse(json.value);
  if (!input.success) {
    const fieldErrors = z.flattenError(input.error).fieldErrors;
    return Response.json({ error: "Correct the highlighted fields.", fieldErrors }, { status: 400 });
  }
  return withMailbox(context, async ({ db, actor, ref }) => {
    const started = await startEntraSetup(db, actor, ref, input.data);
    if (!started.ok) return refusalResponse(started.refusal);
    return Response.json({ setup: started.setup }, { headers: { "cache-control": "no-store" } });
  });
}
