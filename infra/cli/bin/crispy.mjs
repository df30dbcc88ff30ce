#!/usr/bin/env node
// The `crispy` executable: the CLI is TypeScript, run through tsx's loader (no build step, so
// `pnpm crispy …` works on a fresh clone right after `pnpm install`).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
