import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";

// Every test file gets its own SQLite file and valid secrets, before any module reads the environment.
process.env.DATABASE_URL = `file:${path.join(os.tmpdir(), `navigator-test-${process.pid}-${randomBytes(4).toString("hex")}.db`)}`;
process.env.AUTH_SECRET = randomBytes(32).toString("base64");
process.env.SECRETS_KEYS = `test1:${randomBytes(32).toString("base64")}`;
