import { type ComponentType, createContext, isValidElement, useContext } from "react";

/**
 * Set by the plain pages' renderer (app/_plain/router.tsx): the server actions a page may hand to its
 * islands, by the name the browser posts them under.
 */
export const IslandScope = createContext<{ actionNames: ReadonlyMap<unknown, string>; inside: boolean } | null>(null);

/**
 * A client component that a plain page hydrates on its own (app/_plain/islands.tsx). In the App
 * Router it is the component itself. In a plain page it is wrapped in an element that names it and
 * carries its props, for the island script to hydrate with the same props; a server action among
 * them travels as its name (app/_plain/actions.ts).
 */
export function island<P extends object>(name: string, Component: ComponentType<P>): ComponentType<P> {
  function Island(props: P) {
    const scope = useContext(IslandScope);
    if (!scope || scope.inside) return <Component {...props} />;
    // Rendered here with exactly the props the browser will hydrate it with (an action as its name).
    const json = encodeIslandProps(props, scope.actionNames);
    return (
      <div data-island={name} data-props={json}>
        <IslandScope.Provider value={{ ...scope, inside: true }}>
          <Component {...(decodeIslandProps(json) as P)} />
        </IslandScope.Provider>
      </div>
    );
  }
  Island.displayName = name;
  return Island;
}

/** JSON with dates kept as dates and server actions as their names; anything else that JSON would lose is refused. */
function encodeIslandProps(props: object, actionNames: ReadonlyMap<unknown, string>): string {
  return JSON.stringify(props, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    if (original instanceof Date) return { __date: original.getTime() };
    if (typeof original === "function") {
      const name = actionNames.get(original);
      if (!name) throw new Error(`island prop "${key}" is a function that is not a registered form action`);
      return name;
    }
    if (isValidElement(original)) throw new Error(`island prop "${key}" is an element; islands take data only`);
    return value;
  });
}

export function decodeIslandProps(json: string): Record<string, unknown> {
  return JSON.parse(json, (_key, value) =>
    value && typeof value === "object" && typeof value.__date === "number" && Object.keys(value).length === 1
      ? new Date(value.__date)
      : value,
  );
}
