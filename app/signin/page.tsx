import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentActor } from "@/lib/auth/session";
import { SignInForm } from "./signin-form";

export const metadata: Metadata = { title: "Sign in" };

const NOTICES: Record<string, string> = {
  "password-changed": "Your password was changed. Sign in with the new password.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ notice?: string }> }) {
  if (await currentActor()) redirect("/");
  const { notice } = await searchParams;
  return (
    <main className="narrow signin">
      <h1>Navigator Mail</h1>
      <p className="lede">Sign in to manage the mailboxes your business system uses with Microsoft 365.</p>
      {notice && NOTICES[notice] && <p className="notice">{NOTICES[notice]}</p>}
      <SignInForm />
    </main>
  );
}
