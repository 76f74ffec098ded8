/** Request bodies of the browser API are small JSON documents; anything else is refused before parsing. */
const JSON_BODY_LIMIT = 64 * 1024;

type BodyResult = { ok: true; value: unknown } | { ok: false; response: Response };

/** `application/json`, optionally with parameters (`; charset=utf-8`), and nothing else. */
function isJsonContentType(header: string | null): boolean {
  const mediaType = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return mediaType === "application/json";
}

type Refuse = (status: 400 | 413 | 415, message: string) => Response;

const plainRefusal: Refuse = (status, message) => Response.json({ error: message }, { status });

/** Reads at most `limit` bytes (64 KiB): 415 for another type, 413 above the limit, 400 for broken JSON. */
export async function readJsonBody(
  request: Request,
  refuse: Refuse = plainRefusal,
  limit = JSON_BODY_LIMIT,
): Promise<BodyResult> {
  if (!isJsonContentType(request.headers.get("content-type"))) {
    return { ok: false, response: refuse(415, "Send JSON (Content-Type: application/json).") };
  }
  const tooLarge = () => ({
    ok: false as const,
    response: refuse(413, `The request body is larger than ${limit / 1024} KiB.`),
  });
  const body = await readBodyUpTo(request, limit);
  if (!body) return tooLarge();
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch {
    return { ok: false, response: refuse(400, "The request body is not valid JSON.") };
  }
}

/** A request's body, or null when it is longer than `limit` bytes (declared or sent): read no further than that. */
async function readBodyUpTo(request: Request, limit: number): Promise<Buffer | null> {
  if (Number(request.headers.get("content-length") ?? 0) > limit) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return null;
      }
      chunks.push(next.value);
    }
  }
  return Buffer.concat(chunks);
}
