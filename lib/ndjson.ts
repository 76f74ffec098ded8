/**
 * Events as they happen, one JSON document per line (application/x-ndjson): the portal's test route
 * and the API's test operation stream a running test this way. Proxies are asked not to buffer it.
 */
export function ndjsonResponse(events: AsyncIterable<unknown>): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const event of events) controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
      } finally {
        controller.close();
      }
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
