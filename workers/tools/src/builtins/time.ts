/** `current_time`: the current time as ISO 8601 (UTC and in a time zone), unix seconds, the zone. */
import { invalidField, succeeded } from "../outcome";
import type { BuiltinTool } from "./types";

export const currentTime: BuiltinTool = {
  name: "current_time",
  description:
    "The current date and time: ISO 8601 in UTC and in the given IANA time zone (default UTC), unix seconds, and the UTC offset.",
  parameters: () => ({
    type: "object",
    properties: {
      timezone: {
        type: "string",
        minLength: 1,
        maxLength: 64,
        description: "An IANA time zone name such as Europe/Paris, America/New_York or UTC.",
      },
    },
    additionalProperties: false,
  }),
  async run(input) {
    const timezone = typeof input.timezone === "string" ? input.timezone : "UTC";
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: timezone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        weekday: "long",
      });
    } catch {
      return invalidField(
        "timezone",
        `"${timezone.slice(0, 64)}" is not an IANA time zone name (for example Europe/Paris or UTC)`,
      );
    }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
    const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
    const offsetMinutes = Math.round((Date.parse(`${local}Z`) - now.getTime()) / 60_000);
    const sign = offsetMinutes < 0 ? "-" : "+";
    const abs = Math.abs(offsetMinutes);
    const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
    return succeeded(
      JSON.stringify({
        iso: now.toISOString(),
        unix: now.getTime() / 1000,
        timezone: format.resolvedOptions().timeZone,
        local: `${local}${offset}`,
        utcOffset: offset,
        weekday: parts.weekday,
      }),
    );
  },
};
