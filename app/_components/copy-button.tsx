"use client";

import { useState } from "react";

/** Copies a text to the clipboard; where the browser refuses (plain http), says so and lets the caller show it. */
export function CopyButton({
  text,
  label,
  copiedLabel,
  onRefused,
}: {
  text: string;
  label: string;
  copiedLabel: string;
  onRefused?: () => void;
}) {
  const [state, setState] = useState<"idle" | "copied" | "refused">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("refused");
      onRefused?.();
    }
  }
  return (
    <>
      <button type="button" className="secondary" onClick={() => void copy()}>
        {state === "copied" ? copiedLabel : label}
      </button>
      <span aria-live="polite">
        {state === "refused" && " The browser does not allow copying here: select the text by hand."}
      </span>
    </>
  );
}
