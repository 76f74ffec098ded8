import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Navigator Mail", template: "%s · Navigator Mail" },
  description: "Microsoft 365 mailbox settings for SMTP and IMAP with OAuth",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
