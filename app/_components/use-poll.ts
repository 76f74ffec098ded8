"use client";

import { useEffect, useRef } from "react";

const POLL_MS = 2_000;

/**
 * Asks `url` every two seconds (after each answer) while it is set, and hands each answer over; a
 * request that fails is simply asked again. A null url stops the asking, as leaving the page does.
 */
export function usePoll(url: string | null, onAnswer: (response: Response) => Promise<void> | void): void {
  const handler = useRef(onAnswer);
  useEffect(() => {
    handler.current = onAnswer;
  });
  useEffect(() => {
    if (!url) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const ask = async () => {
      try {
        const response = await fetch(url, { cache: "no-store" });
        if (!stopped) await handler.current(response);
      } catch {
        // The portal could not be reached this time: ask again.
      }
      if (!stopped) timer = setTimeout(ask, POLL_MS);
    };
    timer = setTimeout(ask, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [url]);
}
