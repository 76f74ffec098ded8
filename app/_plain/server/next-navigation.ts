// next/navigation in the direct bundle (scripts/build-if-needed.ts aliases it here). redirect() and
// notFound() end the page or action as in Next.js, with errors the plain router turns into answers;
// useRouter() is what a client component calls while it is rendered on the server.

export class PlainRedirect extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}

export class PlainNotFound extends Error {
  constructor() {
    super("not found");
  }
}

export function redirect(location: string): never {
  throw new PlainRedirect(location);
}

export function notFound(): never {
  throw new PlainNotFound();
}

export function unstable_rethrow(error: unknown): void {
  if (error instanceof PlainRedirect || error instanceof PlainNotFound) throw error;
}

const NO_ROUTER = {
  refresh() {},
  push() {},
  replace() {},
  back() {},
  forward() {},
  prefetch() {},
};

export function useRouter() {
  return NO_ROUTER;
}
