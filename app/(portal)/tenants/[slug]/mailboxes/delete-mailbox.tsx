"use client";

import { useState } from "react";
import { ActionForm } from "@/app/_components/action-form";
import type { ActionResult } from "@/lib/action-result";

type Props = {
  action: (previous: ActionResult | null, formData: FormData) => Promise<ActionResult>;
  tenantId: number;
  mailboxId: number;
  name: string;
};

/** Two steps: the first button only asks; the second deletes. */
export function DeleteMailbox({ action, tenantId, mailboxId, name }: Props) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Delete mailbox…
      </button>
    );
  }
  return (
    <section className="confirm" aria-labelledby="confirm-delete">
      <p id="confirm-delete">
        Delete <strong>{name}</strong>? Its settings and stored password are removed for good; the business system stops
        sending and receiving through it.
      </p>
      <ActionForm
        action={action}
        submitLabel={`Delete ${name}`}
        pendingLabel="Deleting…"
        className="inline-form danger-form"
      >
        <input type="hidden" name="tenantId" value={tenantId} />
        <input type="hidden" name="mailboxId" value={mailboxId} />
        {/* biome-ignore lint/a11y/noAutofocus: the confirmation replaces the button just pressed; focus must follow it. */}
        <button type="button" className="secondary" onClick={() => setConfirming(false)} autoFocus>
          Cancel
        </button>
      </ActionForm>
    </section>
  );
}
