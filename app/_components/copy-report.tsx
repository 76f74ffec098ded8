"use client";

import { useState } from "react";

/** Copies the report; where the browser refuses (plain http), the text is there to select by hand. */
export function CopyReport({ text }: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "refused">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("refused");
    }
  }
  return (
    <div className="copy-report">
      <button type="button" className="secondary" onClick={() => void copy()}>
        {state === "copied" ? "Report copied" : "Copy report"}
      </button>
      <span aria-live="polite">
        {state === "refused" && " The browser does not allow copying here: select the report text below."}
      </span>
      <details open={state === "refused"}>
        <summary>Show the report text</summary>
        <pre>{text}</pre>
      </details>
    </div>
  );
}
