"use client";

import { CopyButton } from "./copy-button";

/**
 * Where to go and the code to type there, each with a copy button: the Microsoft sign-in of a
 * mailbox and the Entra setup's admin sign-in show it alike. `who` says which account to sign in as.
 */
export function DeviceCodeSteps({
  userCode,
  verificationUri,
  who,
}: {
  userCode: string;
  verificationUri: string | null;
  who: string;
}) {
  return (
    <ol>
      <li>
        Open{" "}
        {verificationUri ? (
          <a href={verificationUri} target="_blank" rel="noopener noreferrer">
            {verificationUri}
          </a>
        ) : (
          "Microsoft's sign-in page"
        )}{" "}
        {verificationUri && <CopyButton text={verificationUri} label="Copy address" copiedLabel="Address copied" />}
      </li>
      <li>
        Enter the code{" "}
        <code className="user-code" data-user-code={userCode}>
          {userCode}
        </code>{" "}
        <CopyButton text={userCode} label="Copy code" copiedLabel="Code copied" />
      </li>
      <li>{who}</li>
    </ol>
  );
}
