// "react" in the island script (scripts/build-if-needed.ts aliases it here): Preact's compatibility
// layer, plus the one hook of React 19 the islands use that it lacks.
import { useCallback, useRef, useState } from "preact/compat";

// What the islands and the components they render import from "react".
export {
  Component,
  createContext,
  createElement,
  default,
  Fragment,
  isValidElement,
  useCallback,
  useContext,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from "preact/compat";

/** React's useActionState for a form posted by hand: [state, dispatch, pending]. */
export function useActionState<S, P>(
  action: (state: S, payload: P) => Promise<S>,
  initial: S,
): [S, (payload: P) => void, boolean] {
  const [state, setState] = useState(initial);
  const [pending, setPending] = useState(false);
  const latest = useRef(state);
  latest.current = state;
  const dispatch = useCallback(
    (payload: P) => {
      setPending(true);
      action(latest.current, payload).then(
        (next) => {
          setState(next);
          setPending(false);
        },
        () => setPending(false),
      );
    },
    [action],
  );
  return [state, dispatch, pending];
}
