/**
 * Worker secrets (`secrets.required` in a wrangler.jsonc): read from the environment variable of
 * the same name, or asked for on the terminal (not echoed), and handed to `wrangler secret put` on
 * stdin. Nothing is ever written to a file. A secret the worker already has is left alone unless
 * the environment gives a value (then it is replaced: that is how a secret is rotated).
 */

/** Format checks of the secrets the workers read, so a bad value fails here, not in production. */
const CHECKS: Record<string, { test: (value: string) => boolean; hint: string }> = {
  OPERATOR_TOKEN: {
    test: (value) => value.length >= 24 && !/\s/.test(value),
    hint: "at least 24 characters, no spaces (e.g. openssl rand -base64 32)",
  },
  TOOLS_SECRET_KEY: {
    test: (value) => /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, "base64").length === 32,
    hint: "base64 of 32 random bytes (openssl rand -base64 32)",
  },
  WIDGET_TOKEN_SECRET: {
    test: (value) => value.length >= 32,
    hint: "at least 32 characters (openssl rand -base64 32)",
  },
};

/** Throws naming the secret and what it must be when `value` does not fit it. */
export function checkSecret(name: string, value: string): string {
  const check = CHECKS[name];
  if (value.length === 0) throw new Error(`${name} is empty`);
  if (check && !check.test(value)) throw new Error(`${name} must be ${check.hint}`);
  return value;
}

/** How to make a value for `name`, for messages. */
export function secretHint(name: string): string {
  return CHECKS[name]?.hint ?? "any non-empty value";
}

/** Reads one line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let value = "";
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new Error("cancelled"));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on("data", onData);
  });
}

/** Whether secrets can be asked for (a terminal on both ends). */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}
