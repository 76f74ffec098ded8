"use client";

import { useState } from "react";

export function CopyReport({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="form-actions">
      <button type="button" className="secondary" onClick={() => void navigator.clipboard.writeText(text).then(() => setCopied(true), () => setCopied(false))}>
        {copied ? "Report copied" : "Copy report"}
      </button>
      <details>
        <summary>Show the report text</summary>
        <pre>{text}</pre>
      </details>
    </div>
  );
}
