import { describe, expect, it } from "vitest";
import { printable } from "../../scripts/terminal";

describe("what the command-line tools print", () => {
  it("has no control characters that a tenant or a server could have put in a name or a reply", () => {
    const hostile = "Invoices\u001b]0;owned\u0007\u001b[2J\u009b31m\r\u0000 done";
    expect(printable(hostile)).toBe("Invoices]0;owned[2J31m done");
    expect(printable(hostile)).not.toMatch(/(?![\n\t])\p{Cc}/u);
  });

  it("keeps new lines, tabs and every printable character", () => {
    const text = "Step\tpassed\nserver: 535 5.7.3 Authentication unsuccessful — é 🙂";
    expect(printable(text)).toBe(text);
  });
});
