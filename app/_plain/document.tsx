import fs from "node:fs";
import path from "node:path";

// The portal's stylesheet goes into each plain page inline: one request less before the first paint,
// and nothing for the page to fetch at all (2.5 KiB gzip).
const STYLES = fs.readFileSync(path.join(process.cwd(), "app", "globals.css"), "utf8");

/**
 * The document of a page served as plain HTML: the head the root layout's metadata gives, and at most
 * one script, the islands' (app/_plain/islands.tsx).
 */
export function PlainDocument({
  title,
  nonce,
  script,
  children,
}: {
  title: string;
  nonce: string;
  script?: string;
  children: React.ReactNode;
}) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Navigator Mail`}</title>
        <meta name="description" content="Microsoft 365 mailbox settings for SMTP and IMAP with OAuth" />
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: the portal's own stylesheet, read from disk */}
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
        {script && <script type="module" src={script} nonce={nonce} />}
      </head>
      <body>{children}</body>
    </html>
  );
}
