"use client";

import dynamic from "next/dynamic";

// Parts only some pages show. Loaded from a client component, their code is fetched only where they
// are rendered (a server component's dynamic() still sends every chunk it names with the page).
export const EntraSetup = dynamic(() => import("./entra-setup").then((m) => m.EntraSetup));
export const DeviceSignIn = dynamic(() => import("./device-sign-in").then((m) => m.DeviceSignIn));
