/**
 * `crispy ingest <files or folders…>`: uploads each file (multipart `POST /v1/documents`, a stable
 * document id from its path), then polls `GET /v1/ingest/jobs/:id` until the job is done,
 * unchanged or failed — N files at a time — with a progress bar of files and chunks on stderr,
 * and ends with a summary table (or JSON). Exit code 1 when any file failed.
 */
import { readFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { DocumentRecord, IngestJob } from "@crispy/contracts";
import { action, invocationDir } from "../context";
import { CliError, EXIT } from "../errors";
import { collectFiles, type FileToIngest } from "../files";
import type { ApiClient } from "../http";
import { cell, note, pc, print, printJson, table } from "../output";

interface IngestOptions {
  wait?: boolean;
  concurrency: string;
  idPrefix?: string;
  timeout: string;
}

interface FileResult {
  file: string;
  documentId: string;
  jobId: string | null;
  /** The job's state, or "failed" for an upload the gateway refused. */
  state: IngestJob["state"];
  /** Chunks indexed; for an unchanged file, the document's (null when the key may not read it). */
  chunks: number | null;
  version: number | null;
  error: string | null;
}

const TERMINAL = new Set(["done", "unchanged", "failed"]);
/** Polling starts quick and slows down, so a large folder stays well inside the key's rate limit. */
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2_000;
const RATE_LIMIT_RETRIES = 5;

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `call`, waiting out a 429 rate_limited (Retry-After) a few times before giving up. */
async function patiently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== "rate_limited" || attempt >= RATE_LIMIT_RETRIES) throw error;
      await sleep((error.retryAfter ?? 1) * 1000);
    }
  }
}

/** Progress: a bar on a terminal, a line per finished file otherwise. */
class Progress {
  readonly #bar: SingleBar | null;
  readonly #total: number;
  readonly #chunks = new Map<string, { done: number; total: number }>();
  #finished = 0;

  constructor(total: number) {
    this.#total = total;
    this.#bar = process.stderr.isTTY
      ? new SingleBar({
          stream: process.stderr,
          format: `ingest ${pc.cyan("{bar}")} {value}/{total} files | chunks {chunksDone}/{chunksTotal} | {current}`,
          barCompleteChar: "█",
          barIncompleteChar: "░",
          hideCursor: true,
        })
      : null;
    this.#bar?.start(total, 0, { chunksDone: 0, chunksTotal: 0, current: "" });
  }

  update(file: FileToIngest, job: Pick<IngestJob, "chunksDone" | "chunksTotal">): void {
    this.#chunks.set(file.path, { done: job.chunksDone, total: job.chunksTotal });
    this.#bar?.update(this.#finished, { ...this.#chunkTotals(), current: file.display });
  }

  finish(result: FileResult): void {
    this.#finished += 1;
    if (this.#bar) this.#bar.update(this.#finished, { ...this.#chunkTotals(), current: result.file });
    else
      note(
        `[${this.#finished}/${this.#total}] ${result.file} → ${result.state}${result.state === "failed" ? `: ${result.error}` : result.chunks === null ? "" : ` (${plural(result.chunks, "chunk")})`}`,
      );
  }

  stop(): void {
    this.#bar?.stop();
  }

  #chunkTotals(): { chunksDone: number; chunksTotal: number } {
    let chunksDone = 0;
    let chunksTotal = 0;
    for (const { done, total } of this.#chunks.values()) {
      chunksDone += done;
      chunksTotal += total;
    }
    return { chunksDone, chunksTotal };
  }
}

/** An unchanged document's chunk count (its job indexed none); needs the search scope. */
async function chunkCountOf(client: ApiClient, documentId: string): Promise<number | null> {
  try {
    const document = await client.json<DocumentRecord>("GET", `/v1/documents/${encodeURIComponent(documentId)}`);
    return document.chunkCount;
  } catch {
    return null;
  }
}

function resultOf(file: FileToIngest, job: IngestJob, chunks: number | null = job.chunksDone): FileResult {
  return {
    file: file.display,
    documentId: job.docId,
    jobId: job.id,
    state: job.state,
    chunks,
    version: job.version,
    error: job.error ? `${job.error.code}: ${job.error.message}` : null,
  };
}

async function ingestOne(
  client: ApiClient,
  file: FileToIngest,
  wait: boolean,
  deadlineMs: number,
  progress: Progress,
): Promise<FileResult> {
  const form = new FormData();
  form.set("file", new File([readFileSync(file.path)], file.display.split("/").pop()!, { type: file.contentType }));
  form.set("id", file.documentId);
  form.set("source", file.display);
  let job: IngestJob;
  try {
    // ?wait=true: the gateway answers once a small document is indexed (or after ~10 s), so most
    // files need no polling at all.
    job = await patiently(() =>
      client.json<IngestJob>("POST", "/v1/documents", { body: form, ...(wait ? { query: { wait: "true" } } : {}) }),
    );
  } catch (error) {
    // A refused upload (too large, unsupported, unparseable) fails that file, not the run; a
    // refusal of the key itself (401/403) or an unreachable gateway fails every file alike.
    if (error instanceof CliError && (error.exitCode === EXIT.usage || error.exitCode === EXIT.notFound))
      return {
        file: file.display,
        documentId: file.documentId,
        jobId: null,
        state: "failed",
        chunks: 0,
        version: null,
        error: error.line(),
      };
    throw error;
  }
  progress.update(file, job);
  const deadline = Date.now() + deadlineMs;
  let pause = POLL_FIRST_MS;
  while (wait && !TERMINAL.has(job.state)) {
    if (Date.now() > deadline)
      return { ...resultOf(file, job), error: `still ${job.state} after ${deadlineMs / 1000} s (job ${job.id})` };
    await sleep(pause);
    pause = Math.min(POLL_MAX_MS, pause * 1.5);
    const id = job.id;
    job = await patiently(() => client.json<IngestJob>("GET", `/v1/ingest/jobs/${encodeURIComponent(id)}`));
    progress.update(file, job);
  }
  return job.state === "unchanged" ? resultOf(file, job, await chunkCountOf(client, job.docId)) : resultOf(file, job);
}

function positiveInteger(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`${flag} must be a whole number from 1 to ${max}, got "${value}"`, {
      exitCode: EXIT.usage,
      code: "bad_option",
    });
  return n;
}

export function registerIngest(program: Command): void {
  program
    .command("ingest")
    .argument("<paths...>", "files and folders (folders are walked; dotfiles and node_modules are skipped)")
    .description("upload documents and wait until they are indexed, with progress and a summary")
    .option("--wait", "wait for each job to finish (the default)")
    .option("--no-wait", "return once every file is uploaded (jobs keep running)")
    .option("--concurrency <n>", "files in flight at once", "4")
    .option("--id-prefix <prefix>", "prefix for the document ids made from the paths (e.g. handbook:)")
    .option("--timeout <seconds>", "how long to wait for one file's job", "600")
    .addHelpText(
      "after",
      "\nFormats: .txt .md .html .json .csv .tsv .pdf (10 MiB each).\nDocument ids come from the paths (folder:sub:file.md), so running it again updates the\nsame documents; unchanged files are reported `unchanged`.\n\nExample:\n  crispy ingest ./handbook ./faq.md --concurrency 8",
    )
    .action(
      action<IngestOptions, [string[]]>(async (context, paths) => {
        const { options } = context;
        const concurrency = positiveInteger(options.concurrency, "--concurrency", 32);
        const timeoutMs = positiveInteger(options.timeout, "--timeout", 86_400) * 1000;
        const { files, skipped } = collectFiles(paths, invocationDir(), options.idPrefix ?? "");
        for (const skip of skipped) note(pc.dim(`skipped ${skip.path}: ${skip.reason}`));
        if (files.length === 0)
          throw new CliError("no files to ingest", {
            exitCode: EXIT.usage,
            code: "no_files",
            hint: "supported: .txt .md .html .json .csv .tsv .pdf",
          });
        const client = context.client();
        const wait = options.wait !== false;
        const progress = new Progress(files.length);
        const results: FileResult[] = new Array(files.length);
        let next = 0;
        const worker = async () => {
          while (next < files.length) {
            const index = next++;
            results[index] = await ingestOne(client, files[index]!, wait, timeoutMs, progress);
            progress.finish(results[index]!);
          }
        };
        try {
          await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
        } finally {
          progress.stop();
        }
        const count = (state: string) => results.filter((r) => r.state === state).length;
        const totals = {
          files: results.length,
          done: count("done"),
          unchanged: count("unchanged"),
          failed: count("failed"),
          pending: count("queued") + count("running"),
          chunks: results.reduce((sum, r) => sum + (r.chunks ?? 0), 0),
        };
        if (options.json) printJson({ files: results, skipped, totals });
        else {
          print(
            table(
              ["file", "document", "chunks", "status", "error"],
              results.map((r) => [
                r.file,
                r.documentId,
                cell(r.chunks),
                r.state === "failed" ? pc.red(r.state) : r.state,
                r.error ?? "",
              ]),
            ),
          );
          print(
            `${plural(totals.files, "file")}: ${totals.done} indexed, ${totals.unchanged} unchanged, ${totals.failed} failed${totals.pending ? `, ${totals.pending} still running` : ""}; ${plural(totals.chunks, "chunk")}.`,
          );
        }
        if (totals.failed > 0) process.exitCode = EXIT.failed;
      }),
    );
}
