import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { removeTemporaries, tempDbPath } from "./temp";

// Every test file gets its own SQLite file and valid secrets, before any module reads the environment.
process.env.DATABASE_URL = `file:${tempDbPath(`navigator-test-${process.pid}-${randomBytes(4).toString("hex")}.db`)}`;
process.env.AUTH_SECRET = randomBytes(32).toString("base64");
process.env.SECRETS_KEYS = `test1:${randomBytes(32).toString("base64")}`;

// Registered first, so it runs after every other afterAll of the file: the rig and the portals have
// stopped by then.
afterAll(() => removeTemporaries());
