import type { Metadata } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Navigator Mail", template: "%s · Navigator Mail" },
  description: "Microsoft 365 mailbox settings for SMTP and IMAP with OAuth",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request, so each gets the nonce of its own Content-Security-Policy.
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
