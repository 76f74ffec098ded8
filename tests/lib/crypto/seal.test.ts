import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canOpen, open, SealError, seal, sealedKeyId, sealingContext } from "@/lib/crypto/seal";

const k1 = { id: "k1", key: randomBytes(32) };
const k2 = { id: "k2", key: randomBytes(32) };
const ctx = sealingContext({ tenantId: 1, table: "mailboxes", rowId: 7, field: "password" });

describe("seal / open", () => {
  it("round-trips and names the key id in a versioned format", () => {
    const sealed = seal("pässword 🔑", ctx, [k1]);
    expect(sealed).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain("pässword");
    expect(open(sealed, ctx, [k1])).toBe("pässword 🔑");
    expect(sealedKeyId(sealed)).toBe("k1");
  });

  it("uses a fresh IV every time", () => {
    expect(seal("same", ctx, [k1])).not.toBe(seal("same", ctx, [k1]));
  });

  it.each([
    ["another mailbox", { tenantId: 1, rowId: 8 }],
    ["another tenant", { tenantId: 2, rowId: 7 }],
  ])("refuses a value copied to %s", (_name, other) => {
    const sealed = seal("secret", ctx, [k1]);
    const otherCtx = sealingContext({ ...other, table: "mailboxes", field: "password" });
    expect(() => open(sealed, otherCtx, [k1])).toThrow(SealError);
  });

  it("refuses another field of the same row", () => {
    const sealed = seal("secret", ctx, [k1]);
    expect(
      canOpen(sealed, sealingContext({ tenantId: 1, table: "mailboxes", rowId: 7, field: "token_cache" }), [k1]),
    ).toBe(false);
  });

  it("refuses tampered ciphertext and unknown formats", () => {
    const sealed = seal("secret", ctx, [k1]);
    const parts = sealed.split(".");
    const flipped = Buffer.from(parts[3]!, "base64url");
    flipped[0]! ^= 1;
    parts[3] = flipped.toString("base64url");
    expect(() => open(parts.join("."), ctx, [k1])).toThrow(/authentication failed/);
    expect(() => open("v2.k1.a.b.c", ctx, [k1])).toThrow(/unknown format/);
    expect(() => open("plain text", ctx, [k1])).toThrow(/unknown format/);
  });

  it("opens with any configured key and seals with the first", () => {
    const old = seal("secret", ctx, [k1]);
    expect(open(old, ctx, [k2, k1])).toBe("secret");
    expect(sealedKeyId(seal("secret", ctx, [k2, k1]))).toBe("k2");
    expect(() => open(old, ctx, [k2])).toThrow(/key "k1" is not configured/);
  });

  it("accepts only a full 16-byte tag: a value with its tag cut to 4 bytes does not open", () => {
    const parts = seal("secret", ctx, [k1]).split(".");
    for (const bytes of [4, 8, 12, 15]) {
      const cut = [...parts.slice(0, 4), Buffer.from(parts[4]!, "base64url").subarray(0, bytes).toString("base64url")];
      expect(() => open(cut.join("."), ctx, [k1])).toThrow(SealError);
    }
    expect(open(parts.join("."), ctx, [k1])).toBe("secret");
  });
});
