/**
 * The CLI as a user runs it (a child process, its own config directory) against a real mesh: every
 * worker on plain workerd with real Durable Objects, D1, KV and R2 (harness.ts). Each test makes
 * its own keys, so the per-key rate limit of one never throttles another.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, freshConfigDir, runCli, startTestMesh, type TestMesh } from "./harness";

const PORT = Number(process.env.CRISPY_CLI_TEST_PORT ?? 8851);
const ALL = ["chat", "search", "ingest", "tools", "admin"];

let mesh: TestMesh;

beforeAll(async () => {
  mesh = await startTestMesh(PORT);
});

afterAll(async () => {
  await mesh?.dispose();
});

/** A config directory and the environment pointing the CLI at it. */
function user(): { dir: string; env: Record<string, string> } {
  const dir = freshConfigDir();
  return { dir, env: { CRISPY_CONFIG_DIR: dir } };
}

/** Logs a fresh user in with a new key of `tenant` and returns their environment. */
async function loggedIn(tenant = "acme", scopes = ALL): Promise<{ env: Record<string, string>; keyId: string }> {
  const { env } = user();
  const { id, key } = await mesh.createKey(tenant, scopes);
  const login = await runCli(["login", "--url", mesh.url, "--key", key], { env });
  expect(login.code, login.stderr).toBe(0);
  return { env, keyId: id };
}

function expectExit(run: CliRun, code: number): void {
  expect(run.code, `exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(code);
}

/** A folder of three small documents in three formats, plus what a walk must skip. */
function handbook(): string {
  const root = join(mkdtempSync(join(tmpdir(), "crispy-docs-")), "handbook");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(root, "node_modules"), { recursive: true });
  mkdirSync(join(root, ".git"), { recursive: true });
  writeFileSync(
    join(root, "refunds.md"),
    "# Zorblax refunds\n\nZorblax customers get a refund within 30 days of purchase. The zorblax refund desk answers in two days.\n",
  );
  writeFileSync(
    join(root, "sub", "teapot.txt"),
    "The quantum teapot brews tea at exactly 93 degrees. Teapot maintenance happens every Tuesday.\n",
  );
  writeFileSync(
    join(root, "hours.html"),
    "<html><head><title>Office hours</title></head><body><h1>Office hours</h1><p>The Glimmerstone office opens at 9 and closes at 17.</p></body></html>",
  );
  writeFileSync(join(root, ".draft.md"), "# Draft\n\nNot for ingesting.\n");
  writeFileSync(join(root, "node_modules", "dep.md"), "# Dependency\n");
  writeFileSync(join(root, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(root, "logo.png"), "not really a png");
  return root;
}

interface IngestSummary {
  files: Array<{ file: string; documentId: string; state: string; chunks: number | null; error: string | null }>;
  skipped: Array<{ path: string; reason: string }>;
  totals: { files: number; done: number; unchanged: number; failed: number };
}

interface ChatJson {
  sessionId: string;
  reply: string;
  sources: Array<{ n: number; docId: string; title: string }>;
}

describe("crispy login / logout", () => {
  it("checks the key, then stores URL and key readable only by the user, and uses them", async () => {
    const { dir, env } = user();
    const { id, key } = await mesh.createKey("acme", ["chat", "admin"]);
    const login = await runCli(["login", "--url", mesh.url, "--key", key, "--json"], { env });
    expectExit(login, 0);
    const reply = login.json<{ tenant: { id: string }; key: { id: string; scopes: string[] }; configPath: string }>();
    expect(reply.tenant.id).toBe("acme");
    expect(reply.key.id).toBe(id);
    expect(reply.configPath).toBe(join(dir, "config.json"));

    expect(statSync(join(dir, "config.json")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))).toEqual({ url: mesh.url, key });

    // No flags: the stored login is what the next command uses.
    const keys = await runCli(["keys", "--json"], { env });
    expectExit(keys, 0);
    expect(keys.json<{ keys: Array<{ id: string }> }>().keys.map((k) => k.id)).toContain(id);

    const logout = await runCli(["logout"], { env });
    expectExit(logout, 0);
    expect(existsSync(join(dir, "config.json"))).toBe(false);
    const after = await runCli(["keys"], { env });
    expectExit(after, 3);
    expect(after.stderr).toContain("crispy login");
  });

  it("refuses a bad key with the 401 hint and exit code 4, and stores nothing", async () => {
    const { dir, env } = user();
    const run = await runCli(["login", "--url", mesh.url, "--key", "ce_not-a-real-key", "--json"], { env });
    expectExit(run, 4);
    expect(run.stderr).toMatch(/unauthorized \(HTTP 401\): .*run `crispy login`/);
    const { error } = run.json<{ error: { code: string; status: number; requestId: string; exitCode: number } }>();
    expect(error).toMatchObject({ code: "unauthorized", status: 401, exitCode: 4 });
    expect(error.requestId).toMatch(/\S+/);
    expect(existsSync(join(dir, "config.json"))).toBe(false);
  });

  it("lets --key beat CRISPY_KEY, and CRISPY_URL/CRISPY_KEY beat the stored login", async () => {
    const globex = await loggedIn("globex", ALL);
    const acme = await mesh.createKey("acme", ALL);
    const env = { ...globex.env, CRISPY_URL: mesh.url, CRISPY_KEY: acme.key };
    const fromEnv = await runCli(["keys", "--json"], { env });
    expectExit(fromEnv, 0);
    const ids = fromEnv.json<{ keys: Array<{ id: string; tenantId: string }> }>().keys;
    expect(ids.map((k) => k.id)).toContain(acme.id);
    expect(ids.every((k) => k.tenantId === "acme")).toBe(true);

    const chatOnly = await mesh.createKey("acme", ["chat"]);
    const fromFlag = await runCli(["keys", "--key", chatOnly.key], { env });
    expectExit(fromFlag, 4);
    expect(fromFlag.stderr).toContain('lacks the "admin" scope');
    expect(fromFlag.stderr).toContain('use a key with the "admin" scope');
  });
});

describe("crispy ingest, chat and search", () => {
  it("ingests a folder (3 formats; dotfiles, node_modules and unknown types skipped), then answers citing it", async () => {
    const { env } = await loggedIn();
    const folder = handbook();
    const run = await runCli(["ingest", folder, "--json"], { env });
    expectExit(run, 0);
    const summary = run.json<IngestSummary>();
    expect(summary.files.map((f) => f.documentId).sort()).toEqual([
      "handbook:hours.html",
      "handbook:refunds.md",
      "handbook:sub:teapot.txt",
    ]);
    for (const file of summary.files) {
      expect(file.state, file.error ?? "").toBe("done");
      expect(file.chunks).toBeGreaterThan(0);
    }
    expect(summary.totals).toMatchObject({ files: 3, done: 3, failed: 0 });
    expect(summary.skipped.map((s) => s.path)).toEqual([join(folder, "logo.png")]);
    // Progress went to stderr, one line per file, never into the JSON.
    expect(run.stderr.match(/^\[\d\/3\] /gm)).toHaveLength(3);

    const chat = await runCli(["chat", "When do zorblax customers get a refund?", "--json"], { env });
    expectExit(chat, 0);
    const turn = chat.json<ChatJson>();
    expect(turn.reply).toContain("30 days");
    expect(turn.reply).toMatch(/\[1\]/);
    expect(turn.sources[0]).toMatchObject({ n: 1, docId: "handbook:refunds.md" });

    const search = await runCli(["search", "Glimmerstone", "office", "opens", "--json"], { env });
    expectExit(search, 0);
    const answer = search.json<{ found: boolean; answer: string; sources: Array<{ docId: string }> }>();
    expect(answer.found).toBe(true);
    expect(answer.sources[0]!.docId).toBe("handbook:hours.html");

    const human = await runCli(["search", "quantum teapot temperature"], { env });
    expectExit(human, 0);
    expect(human.stdout).toContain("93 degrees");
    expect(human.stdout).toMatch(/^ {2}\[1\] teapot\.txt \(handbook:sub:teapot\.txt\)/m);

    // The same folder again: the ids come from the paths, so nothing is duplicated.
    const again = await runCli(["ingest", folder, "--json"], { env });
    expectExit(again, 0);
    const second = again.json<IngestSummary>();
    expect(second.totals).toMatchObject({ files: 3, unchanged: 3 });
    expect(second.files.every((f) => (f.chunks ?? 0) > 0)).toBe(true);

    // Another tenant's key finds none of it.
    const globex = await loggedIn("globex", ALL);
    const elsewhere = await runCli(["search", "zorblax refund desk", "--json"], { env: globex.env });
    expectExit(elsewhere, 0);
    const foreign = elsewhere.json<{ sources: Array<{ docId: string }> }>().sources.map((s) => s.docId);
    expect(foreign.filter((id) => id.startsWith("handbook:"))).toEqual([]);
  });

  it("streams a one-shot answer with its citations, and --continue resumes that session", async () => {
    const { env } = await loggedIn();
    const file = join(mkdtempSync(join(tmpdir(), "crispy-ferry-")), "ferry.md");
    writeFileSync(file, "# Brimblewick ferry\n\nThe Brimblewick ferry departs at noon every Sunday from pier seven.\n");
    expectExit(await runCli(["ingest", file, "--id-prefix", "stream:"], { env }), 0);

    const run = await runCli(["chat", "When does the Brimblewick ferry depart?"], { env });
    expectExit(run, 0);
    expect(run.stdout).toContain("noon every Sunday");
    expect(run.stdout).toMatch(/Sources\n {2}\[1\] Brimblewick ferry \(stream:ferry\.md\)/);
    // Streamed: the answer arrived in many pieces over time, not in one write at the end.
    expect(run.stdoutTimes.length).toBeGreaterThan(3);
    expect(run.stdoutTimes.at(-1)! - run.stdoutTimes[0]!).toBeGreaterThan(100);
    const sessionId = /session (ses_\w+)/.exec(run.stderr)?.[1];
    expect(sessionId, run.stderr).toBeDefined();

    const next = await runCli(["chat", "--continue", "And from which pier?", "--json"], { env });
    expectExit(next, 0);
    expect(next.json<ChatJson>().sessionId).toBe(sessionId);

    const missing = await runCli(["chat", "--session", "ses_doesnotexist", "hello"], { env });
    expectExit(missing, 5);
    expect(missing.stderr).toContain("not_found (HTTP 404)");
  });

  it("keeps the session across REPL turns; /new starts another", async () => {
    const { env } = await loggedIn();
    const run = await runCli(["chat", "--no-rag", "--json"], {
      env,
      input: "hello there\nanother message\n/new\na third one\n/exit\nnever sent\n",
    });
    expectExit(run, 0);
    const turns = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ChatJson);
    expect(turns).toHaveLength(3);
    expect(turns[0]!.reply).toContain("hello there");
    expect(turns[1]!.sessionId).toBe(turns[0]!.sessionId);
    expect(turns[2]!.sessionId).not.toBe(turns[0]!.sessionId);
  });

  it("reports a file that fails, keeps the others, and exits 1", async () => {
    const { env } = await loggedIn();
    const root = mkdtempSync(join(tmpdir(), "crispy-bad-"));
    writeFileSync(join(root, "good.md"), "# Fine\n\nA perfectly fine document about marmalade.\n");
    writeFileSync(join(root, "broken.json"), '{"unterminated": ');
    const run = await runCli(["ingest", root, "--json"], { env });
    expectExit(run, 1);
    const summary = run.json<IngestSummary>();
    const byFile = Object.fromEntries(summary.files.map((f) => [f.file.split("/").pop(), f]));
    expect(byFile["good.md"]!.state).toBe("done");
    expect(byFile["broken.json"]!.state).toBe("failed");
    expect(byFile["broken.json"]!.error).toMatch(/json/i);
    expect(summary.totals).toMatchObject({ files: 2, done: 1, failed: 1 });
  });

  it("returns right after the uploads with --no-wait", async () => {
    const { env } = await loggedIn();
    const file = join(mkdtempSync(join(tmpdir(), "crispy-nowait-")), "later.txt");
    writeFileSync(file, "Indexed in the background, after the CLI has returned.\n");
    const run = await runCli(["ingest", file, "--no-wait", "--json"], { env });
    expectExit(run, 0);
    const summary = run.json<IngestSummary & { totals: { pending: number } }>();
    expect(summary.files[0]!.state).toBe("queued");
    expect(summary.totals.pending).toBe(1);
  });

  it("names the missing scope when the key may not ingest", async () => {
    const { env } = await loggedIn("acme", ["chat"]);
    const run = await runCli(["ingest", handbook()], { env });
    expectExit(run, 4);
    expect(run.stderr).toContain('lacks the "ingest" scope');
    expect(run.stderr).toContain("crispy keys create --scopes ingest");
  });

  it("refuses an out-of-range option with the gateway's 400 and exit code 2", async () => {
    const { env } = await loggedIn();
    const run = await runCli(["search", "anything", "--top-k", "999", "--json"], { env });
    expectExit(run, 2);
    expect(run.json<{ error: { code: string; status: number } }>().error).toMatchObject({
      code: "validation_failed",
      status: 400,
    });
  });
});

describe("crispy tools, usage and keys", () => {
  it("lists the tools and runs one; bad input is a 400", async () => {
    const { env } = await loggedIn();
    const list = await runCli(["tools", "list", "--json"], { env });
    expectExit(list, 0);
    expect(list.json<{ tools: Array<{ name: string }> }>().tools.map((t) => t.name)).toContain("current_time");
    const table = await runCli(["tools"], { env });
    expectExit(table, 0);
    expect(table.stdout).toMatch(/current_time\s+│ builtin/);

    const exec = await runCli(["tools", "exec", "current_time", "--input", '{"timezone":"Europe/Paris"}', "--json"], {
      env,
    });
    expectExit(exec, 0);
    expect(exec.json<{ status: string; output: { timezone: string } }>()).toMatchObject({
      status: "ok",
      output: { timezone: "Europe/Paris" },
    });

    const inputFile = join(mkdtempSync(join(tmpdir(), "crispy-input-")), "input.json");
    writeFileSync(inputFile, '{"timezone":"Asia/Tokyo"}');
    const fromFile = await runCli(["tools", "exec", "current_time", "--input-file", inputFile, "--json"], { env });
    expectExit(fromFile, 0);
    expect(fromFile.json<{ output: { timezone: string } }>().output.timezone).toBe("Asia/Tokyo");

    const invalid = await runCli(["tools", "exec", "current_time", "--input", '{"timezone":5}'], { env });
    expectExit(invalid, 2);
    expect(invalid.stderr).toContain("(HTTP 400)");
    const notJson = await runCli(["tools", "exec", "current_time", "--input", "{timezone"], { env });
    expectExit(notJson, 2);
    expect(notJson.stderr).toContain("--input is not valid JSON");
  });

  it("prints usage: the budget windows, and the breakdown with a chart when the gateway has one", async () => {
    const { env } = await loggedIn();
    expectExit(await runCli(["chat", "--no-rag", "count these tokens please", "--json"], { env }), 0);
    const json = await runCli(["usage", "--json"], { env });
    expectExit(json, 0);
    const reply = json.json<{ daily: { limit: number; used: number }; rows?: unknown[] }>();
    expect(reply.daily.limit).toBe(200_000);

    const human = await runCli(["usage"], { env });
    expectExit(human, 0);
    expect(human.stdout).toMatch(/daily\s+│ [\d,]+\s+│/);
    if (Array.isArray(reply.rows)) {
      expect(human.stdout).toContain("tokens per day");
      expect(human.stdout).toMatch(/┼/);
    } else expect(human.stdout).not.toContain("Usage by");

    const bad = await runCli(["usage", "--from", "May 1st"], { env });
    expectExit(bad, 2);
    expect(bad.stderr).toContain("--from must be a date like 2026-05-01");
  });

  it("creates a key with the operator token (shown once), lists it and revokes it", async () => {
    const { env } = await loggedIn();
    const operator = ["--operator-token", mesh.operatorToken];
    const created = await runCli(["keys", "create", "--scopes", "chat,search", "--name", "ci", ...operator, "--json"], {
      env,
    });
    expectExit(created, 0);
    const key = created.json<{ id: string; key: string; tenantId: string; scopes: string[] }>();
    expect(key).toMatchObject({ tenantId: "acme", scopes: ["chat", "search"] });

    const second = user();
    expectExit(await runCli(["login", "--url", mesh.url, "--key", key.key], { env: second.env }), 0);
    const listed = await runCli(["keys"], { env });
    expectExit(listed, 0);
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\s+│ ci\\s+│`));

    const revoked = await runCli(["keys", "revoke", key.id, ...operator, "--json"], { env });
    expectExit(revoked, 0);
    expect(revoked.json<{ revokedAt: string | null }>().revokedAt).toMatch(/^\d{4}-/);
    const refused = await runCli(["search", "anything"], { env: second.env });
    expectExit(refused, 4);
    expect(refused.stderr).toContain("revoked");

    const wrongToken = await runCli(["keys", "create", "--scopes", "chat", "--operator-token", "nope"], { env });
    expectExit(wrongToken, 4);
    expect(wrongToken.stderr).toContain("(HTTP 401)");
  });
});
