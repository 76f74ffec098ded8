import Link from "next/link";

export default function NotFound() {
  return (
    <main className="narrow">
      <h1>Not found</h1>
      <p>This page does not exist, or you do not have access to it.</p>
      <p>
        <Link prefetch={false} href="/">
          Back to the portal
        </Link>
      </p>
    </main>
  );
}
