import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { removeTemporaries } from "./temp";
import { newDatabaseUrl } from "./test-database";

// Every test file gets its own database (an SQLite file, or a PostgreSQL database) and valid secrets,
// before any module reads the environment.
process.env.DATABASE_URL = await newDatabaseUrl();
process.env.AUTH_SECRET = randomBytes(32).toString("base64");
process.env.SECRETS_KEYS = `test1:${randomBytes(32).toString("base64")}`;

// Registered first, so it runs after every other afterAll of the file: the rig and the portals have
// stopped by then.
afterAll(() => removeTemporaries());
