"use client";

import { useState } from "react";
import { CopyButton } from "./copy-button";

/** Copies the report; where the browser refuses (plain http), the text opens to select by hand. */
export function CopyReport({ text }: { text: string }) {
  const [refused, setRefused] = useState(false);
  return (
    <div className="copy-report">
      <CopyButton text={text} label="Copy report" copiedLabel="Report copied" onRefused={() => setRefused(true)} />
      <details open={refused}>
        <summary>Show the report text</summary>
        <pre>{text}</pre>
      </details>
    </div>
  );
}
