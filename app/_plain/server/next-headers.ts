import { currentPlainRequest, requestCookies } from "./request-context";

// next/headers in the direct bundle (scripts/build-if-needed.ts aliases it here): the same reads,
// from the request the plain router is answering.

export async function cookies() {
  const jar = requestCookies(currentPlainRequest());
  const entry = (name: string) => {
    const value = jar.get(name);
    return value === undefined ? undefined : { name, value };
  };
  return {
    get: entry,
    has: (name: string) => jar.has(name),
    getAll: () => [...jar].map(([name, value]) => ({ name, value })),
  };
}

export async function headers(): Promise<Headers> {
  return currentPlainRequest().headers;
}
