/** Query-string validation with the same error shape as bodies. */
import type { z } from "zod";
import { HttpError } from "./errors";

export function readQuery<S extends z.ZodType>(request: Request, schema: S): z.output<S> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new HttpError("validation_failed", `query ${first.path.map(String).join(".")}: ${first.message}`, {
      issues: parsed.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`),
    });
  }
  return parsed.data;
}
