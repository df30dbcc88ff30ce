/**
 * proc.mjs — what the bench reads from Linux's /proc about the processes it measures:
 *
 *   listeningPid(port)      the pid of the process holding the LISTEN socket on 127.0.0.1:<port>
 *                           (/proc/net/tcp{,6} inode → /proc/<pid>/fd/* → socket:[inode])
 *   workerdPids()           every running workerd process (by /proc/<pid>/cmdline)
 *   cpuTicks(pid)           utime + stime of the whole process (all threads), in clock ticks
 *   CLOCK_TICKS             ticks per second (`getconf CLK_TCK`, normally 100)
 *   memoryOf(pid)           RSS and its parts (kB → bytes), mapping and fd counts
 *
 * Everything returns null (never throws) where /proc is missing or a process is gone, so the bench
 * reports "n/a" instead of failing on another platform.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

export const CLOCK_TICKS = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

const pids = () => {
  try {
    return readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
};

/** Inodes of LISTEN sockets on `port` (any local address), from /proc/net/tcp and tcp6. */
function listenInodes(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = read(file);
    if (!text) continue;
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length < 10) continue;
      if (cols[1].split(":")[1] === hexPort && cols[3] === "0A") inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** The pid whose open fds include the LISTEN socket on `port`, or null. */
export function listeningPid(port) {
  const inodes = listenInodes(port);
  if (inodes.size === 0) return null;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const pid of pids()) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return null;
}

/** The process's argv (NUL-separated in /proc), or null. */
export function cmdlineOf(pid) {
  const text = read(`/proc/${pid}/cmdline`);
  return text === null ? null : text.split("\0").filter(Boolean);
}

const isWorkerd = (argv) => Boolean(argv?.[0]) && /(^|\/)workerd$/.test(argv[0]);

/** Every running workerd process. */
export function workerdPids() {
  return new Set(
    pids()
      .map(Number)
      .filter((pid) => isWorkerd(cmdlineOf(pid))),
  );
}

/** utime + stime (clock ticks) of the process, all threads included; null when it is gone. */
export function cpuTicks(pid) {
  const text = pid ? read(`/proc/${pid}/stat`) : null;
  if (!text) return null;
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based); comm may hold spaces.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** CPU milliseconds between two cpuTicks readings. */
export const ticksToMs = (ticks) => (ticks * 1000) / CLOCK_TICKS;

/** Resident memory of a process and what it is made of, in bytes, plus map and fd counts. */
export function memoryOf(pid) {
  const status = read(`/proc/${pid}/status`);
  if (!status) return null;
  const kb = (field) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) * 1024 : null;
  };
  const maps = read(`/proc/${pid}/maps`);
  let fds = null;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // not ours to read
  }
  return {
    rss: kb("VmRSS"),
    rssAnon: kb("RssAnon"),
    rssFile: kb("RssFile"),
    rssShmem: kb("RssShmem"),
    vmSize: kb("VmSize"),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN),
    maps: maps === null ? null : maps.split("\n").filter(Boolean).length,
    fds,
  };
}

/**
 * The workerd process behind a Miniflare, found two ways that must agree when both answer: the
 * process listening on `port` (the direct socket) and, when the caller took a `before` snapshot
 * of workerdPids(), the one workerd that appeared since. Returns { pid, how } or { pid: null }.
 */
export function workerdBehind(port, before) {
  const byPort = listeningPid(port);
  const appeared = before ? [...workerdPids()].filter((pid) => !before.has(pid)) : [];
  if (byPort && isWorkerd(cmdlineOf(byPort))) {
    const how = appeared.length === 1 && appeared[0] === byPort ? "port inode + new workerd" : "port inode";
    return { pid: byPort, how };
  }
  if (appeared.length === 1) return { pid: appeared[0], how: "new workerd" };
  return { pid: null, how: `not found (port owner ${byPort ?? "none"}, ${appeared.length} new workerd)` };
}

/**
 * Resident memory of a process by kind of mapping, from /proc/<pid>/smaps: SQLite files (the
 * database, -wal and -shm files workerd maps), the brk heap, other anonymous memory (malloc arenas,
 * V8 heaps, stacks), and other files (the workerd binary, libraries). Bytes; null when unreadable.
 */
export function smapsSummary(pid) {
  const text = read(`/proc/${pid}/smaps`);
  if (!text) return null;
  const out = { sqlite: 0, sqliteMappings: 0, heap: 0, anon: 0, anonMappings: 0, files: 0, other: 0 };
  let kind = "other";
  for (const line of text.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const path = header[1].trim();
      if (/\.sqlite(-shm|-wal|-journal)?( \(deleted\))?$/.test(path)) {
        kind = "sqlite";
        out.sqliteMappings++;
      } else if (path === "[heap]") kind = "heap";
      else if (path === "") {
        kind = "anon";
        out.anonMappings++;
      } else if (path.startsWith("/")) kind = "files";
      else kind = "other"; // [stack], [vvar], [vdso] …
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

/** Paths of the process's open files, grouped: SQLite files by suffix, sockets, other. */
export function openFilesSummary(pid) {
  let fds;
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  const out = { sqlite: 0, sqliteWal: 0, sqliteShm: 0, sockets: 0, other: 0 };
  for (const fd of fds) {
    let target;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (/\.sqlite-wal$/.test(target)) out.sqliteWal++;
    else if (/\.sqlite-shm$/.test(target)) out.sqliteShm++;
    else if (/\.sqlite$/.test(target)) out.sqlite++;
    else if (target.startsWith("socket:")) out.sockets++;
    else out.other++;
  }
  return out;
}
