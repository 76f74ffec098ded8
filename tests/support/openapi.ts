import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

/**
 * The portal's OpenAPI document, checked against the OpenAPI 3.1 schema, and a check of any API
 * answer against it: the status must be documented for the operation, the media type too, and the
 * body must match its schema.
 */
export async function loadSpec(baseUrl: string) {
  const doc = (await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as Doc;
  const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
  if (!result.valid) throw new Error(`the OpenAPI document is not valid: ${JSON.stringify(result.errors)}`);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc as object, "spec");

  /** Validates one answer of `method path` (a path template such as /mailboxes/{id}/token) and returns its body. */
  async function check(response: Response, method: string, path: string): Promise<unknown> {
    const operation = doc.paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const documented = operation.responses[String(response.status)];
    if (!documented) throw new Error(`${method} ${path} answered ${response.status}, which is not documented`);
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (!documented.content?.[mediaType]) {
      throw new Error(`${method} ${path} ${response.status} answered ${mediaType}, which is not documented`);
    }
    const pointer = `/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${method.toLowerCase()}/responses/${response.status}/content/${mediaType.replaceAll("/", "~1")}/schema`;
    const validate = ajv.getSchema(`spec#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    const text = await response.text();
    const bodies =
      mediaType === "application/x-ndjson"
        ? text
            .split("\n")
            .filter(Boolean)
            .map((line) => JSON.parse(line))
        : [JSON.parse(text)];
    for (const body of bodies) {
      if (!validate(body)) {
        throw new Error(
          `${method} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
        );
      }
    }
    return mediaType === "application/x-ndjson" ? bodies : bodies[0];
  }

  return { doc, check };
}
