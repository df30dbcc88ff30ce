/*!
 * Crispy Enigma chat widget: <script src="https://<gateway>/widget.js" data-key="pk_…" async></script>
 * docs/widget.md. A <crispy-chat> web component with no dependencies. Served as is by the gateway.
 */
// How it works, in order:
// - The publishable key (data-key) buys a short-lived visitor token at POST /v1/widget/session; the
//   token, never the key, goes with every chat turn (POST /v1/chat, streamed as SSE).
// - Everything the widget keeps — token, session id and ticket, the conversation — is in
//   localStorage under the key, so a reload continues the same session.
// - The model's Markdown is turned into DOM nodes by a small parser here: text is only ever set as
//   text, never parsed as HTML; links only to http(s) and mailto, citations [n] link to their sources.
// - Keyboard: the launcher and every control are buttons; Enter sends (Shift+Enter: new line),
//   Escape closes the floating panel and gives focus back to the launcher.
// - Theming: CSS custom properties on the element (--crispy-accent, --crispy-bg, … see STYLE).
(() => {
  const TAG = "crispy-chat";
  if (typeof customElements === "undefined" || customElements.get(TAG)) return;

  const script = document.currentScript;
  const GATEWAY = script?.src ? new URL(script.src).origin : location.origin;
  const defaults = script ? script.dataset : {};
  const TICKET = "x-session-ticket";
  const KEPT_MESSAGES = 40;
  const SVG = "http://www.w3.org/2000/svg";

  const STYLE = `
:host { --crispy-accent: #2563eb; --crispy-accent-text: #fff; --crispy-bg: #fff; --crispy-text: #111827;
  --crispy-muted: #6b7280; --crispy-border: #e5e7eb; --crispy-assistant-bg: #f3f4f6; --crispy-error: #b91c1c;
  --crispy-radius: 14px; --crispy-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  --crispy-width: 380px; --crispy-height: 560px; --crispy-z: 2147483000;
  display: block; font: 14px/1.45 var(--crispy-font); color: var(--crispy-text); }
:host([floating]) { position: fixed; right: 20px; bottom: 20px; z-index: var(--crispy-z); }
* { box-sizing: border-box; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid color-mix(in srgb, var(--crispy-accent) 55%, transparent); outline-offset: 2px; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: var(--crispy-accent);
  color: var(--crispy-accent-text); box-shadow: 0 6px 20px rgba(0,0,0,.2); display: grid; place-items: center; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.panel { display: flex; flex-direction: column; width: 100%; height: var(--crispy-height); background: var(--crispy-bg);
  border: 1px solid var(--crispy-border); border-radius: var(--crispy-radius); overflow: hidden; }
:host([floating]) .panel { position: absolute; right: 0; bottom: 72px; width: min(var(--crispy-width), calc(100vw - 40px));
  height: min(var(--crispy-height), calc(100vh - 112px)); box-shadow: 0 12px 40px rgba(0,0,0,.22); }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 6px; padding: 10px 12px; background: var(--crispy-accent); color: var(--crispy-accent-text); }
header h2 { flex: 1; margin: 0; font-size: 15px; }
header button { border: 0; background: transparent; color: inherit; width: 30px; height: 30px; border-radius: 8px; font-size: 18px; line-height: 1; }
header button:hover { background: rgba(255,255,255,.18); }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; }
.msg { max-width: 88%; }
.msg.user { align-self: flex-end; }
.bubble { padding: 8px 12px; border-radius: var(--crispy-radius); overflow-wrap: anywhere; }
.user .bubble { background: var(--crispy-accent); color: var(--crispy-accent-text); white-space: pre-wrap; border-bottom-right-radius: 4px; }
.assistant .bubble { background: var(--crispy-assistant-bg); border-bottom-left-radius: 4px; }
.bubble > :first-child { margin-top: 0; } .bubble > :last-child { margin-bottom: 0; }
.bubble p, .bubble ul, .bubble ol, .bubble pre, .bubble blockquote { margin: 0 0 8px; }
.bubble h3, .bubble h4 { margin: 4px 0 6px; font-size: 15px; }
.bubble ul, .bubble ol { padding-left: 20px; }
.bubble pre { background: rgba(0,0,0,.06); padding: 8px; border-radius: 8px; overflow-x: auto; }
.bubble code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.bubble blockquote { border-left: 3px solid var(--crispy-border); padding-left: 8px; color: var(--crispy-muted); }
.bubble a { color: var(--crispy-accent); }
.user .bubble a { color: inherit; }
.cite { font-size: 11px; vertical-align: super; text-decoration: none; font-weight: 600; }
.streaming .bubble::after { content: "▍"; animation: blink 1s steps(2) infinite; color: var(--crispy-muted); }
@keyframes blink { 50% { opacity: 0; } }
.sources { margin: 6px 0 0; padding: 0 0 0 4px; list-style: none; font-size: 12px; color: var(--crispy-muted); }
.sources li { margin: 2px 0; } .sources a { color: var(--crispy-accent); }
.status { margin: 0; padding: 0 12px; font-size: 13px; min-height: 0; }
.status:not(:empty) { padding: 8px 12px; border-top: 1px solid var(--crispy-border); }
.status.error { color: var(--crispy-error); }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid var(--crispy-border); }
textarea { flex: 1; resize: none; font: inherit; color: inherit; background: var(--crispy-bg); padding: 8px 10px;
  border: 1px solid var(--crispy-border); border-radius: 10px; max-height: 120px; }
form button { border: 0; border-radius: 10px; padding: 0 14px; background: var(--crispy-accent); color: var(--crispy-accent-text); font-weight: 600; }
form button:disabled { opacity: .5; cursor: default; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (prefers-reduced-motion: reduce) { .streaming .bubble::after { animation: none; } }
`;

  // ─── Markdown → DOM ─────────────────────────────────────────────────────────────────────────

  function node(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  /** An absolute http(s) or mailto URL, else null (no javascript:, data:, relative …). */
  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:" || url.protocol === "mailto:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function link(href, text) {
    const a = node("a", "", text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    return a;
  }

  const INLINE = /(`+)([^`]+?)\1|\*\*(.+?)\*\*|\*([^*\s](?:[^*]*[^*\s])?)\*|\[([^\]]+)\]\(([^)\s]+)\)|\[(\d{1,3})\]/g;

  /** Inline Markdown (code, bold, italic, links, citations [n]) appended to `parent` as nodes. */
  function inline(parent, text, sources) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      last = match.index + match[0].length;
      const [whole, , code, bold, italic, label, href, cite] = match;
      if (code !== undefined) parent.append(node("code", "", code));
      else if (bold !== undefined) inline(parent.appendChild(node("strong")), bold, sources);
      else if (italic !== undefined) inline(parent.appendChild(node("em")), italic, sources);
      else if (label !== undefined) {
        const url = safeUrl(href);
        if (url) inline(parent.appendChild(link(url, "")), label, sources);
        else parent.append(whole);
      } else {
        const source = sources.find((s) => s.n === Number(cite));
        const url = source?.url ? safeUrl(source.url) : null;
        if (!source) parent.append(whole);
        else {
          const mark = url ? link(url, `[${cite}]`) : node("sup", "", `[${cite}]`);
          mark.classList.add("cite");
          mark.title = source.title || source.docId || "";
          parent.append(mark);
        }
      }
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  /** Block Markdown — paragraphs, headings, lists, quotes, fenced code — as a fragment of nodes. */
  function markdown(text, sources) {
    const out = document.createDocumentFragment();
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    let paragraph = [];
    let list = null;
    const flush = () => {
      if (paragraph.length > 0) inline(out.appendChild(node("p")), paragraph.join(" "), sources);
      paragraph = [];
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const fence = /^\s*(```|~~~)/.exec(line);
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      const item = /^\s*([-*+]|\d{1,3}[.)])\s+(.*)$/.exec(line);
      if (fence) {
        flush();
        list = null;
        const code = [];
        for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) code.push(lines[i]);
        out.appendChild(node("pre")).appendChild(node("code", "", code.join("\n")));
      } else if (heading) {
        flush();
        list = null;
        inline(out.appendChild(node(heading[1].length <= 2 ? "h3" : "h4")), heading[2], sources);
      } else if (item) {
        flush();
        const ordered = /\d/.test(item[1]);
        if (!list || list.ordered !== ordered)
          list = { ordered, element: out.appendChild(node(ordered ? "ol" : "ul")) };
        inline(list.element.appendChild(node("li")), item[2], sources);
      } else if (/^\s*>/.test(line)) {
        flush();
        list = null;
        inline(out.appendChild(node("blockquote")), line.replace(/^\s*>\s?/, ""), sources);
      } else if (line.trim() === "") {
        flush();
        list = null;
      } else if (list && /^\s{2,}\S/.test(line)) {
        list.element.lastChild.append(" ");
        inline(list.element.lastChild, line.trim(), sources);
      } else {
        list = null;
        paragraph.push(line.trim());
      }
    }
    flush();
    return out;
  }

  // ─── Storage (per key; a page that blocks localStorage gets a conversation per page view) ────

  function store(key) {
    const name = `crispy-chat:${key}`;
    let memory = {};
    return {
      load() {
        try {
          memory = JSON.parse(localStorage.getItem(name) || "{}") || {};
        } catch {}
        return memory;
      },
      save(state) {
        memory = state;
        try {
          localStorage.setItem(name, JSON.stringify(state));
        } catch {}
      },
    };
  }

  // ─── Talking to the gateway ──────────────────────────────────────────────────────────────────

  class ChatError extends Error {
    constructor(kind, message, details) {
      super(message);
      this.kind = kind;
      this.details = details || {};
    }
  }

  /** What a person should read for a failed call. */
  function explain(status, body, retryAfter) {
    const error = body?.error || {};
    const code = error.code || (status >= 500 ? "upstream_unavailable" : "error");
    const wait = Number(retryAfter) || error.details?.retryAfterSeconds;
    if (code === "rate_limited")
      return new ChatError(
        code,
        `You're sending messages too quickly. Try again in ${wait || "a few"} s.`,
        error.details,
      );
    if (code === "budget_exceeded")
      return new ChatError(code, "This chat has reached its usage limit for today. Please try again later.");
    if (code === "forbidden" && /origin/i.test(error.message || ""))
      return new ChatError("origin", `This chat isn't available on this site (${location.origin}).`);
    if (code === "unauthorized")
      return new ChatError(code, "This chat's key is not valid or has been revoked.", error.details);
    if (status >= 500) return new ChatError(code, "The assistant is unavailable right now. Please try again shortly.");
    return new ChatError(code, error.message || `The chat service answered ${status}.`, error.details);
  }

  async function failure(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {}
    return explain(response.status, body, response.headers.get("retry-after"));
  }

  function offlineOr(error) {
    if (error instanceof ChatError || error?.name === "AbortError") return error;
    return navigator.onLine === false
      ? new ChatError("offline", "You're offline. Check your connection and try again.")
      : new ChatError("network", "Can't reach the chat service. Check your connection and try again.");
  }

  /** Reads an SSE body, calling `on(event, data)` for each event with JSON data. */
  async function readEvents(body, on) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const frames = buffer.split(/\r?\n\r?\n/);
      buffer = frames.pop();
      for (const frame of frames) {
        let event = "message";
        const data = [];
        for (const line of frame.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length > 0) on(event, JSON.parse(data.join("\n")));
      }
    }
  }

  class Client {
    constructor(key, rag) {
      this.key = key;
      this.rag = rag;
      this.storage = store(key);
      this.state = this.storage.load();
      if (!Array.isArray(this.state.messages)) this.state.messages = [];
    }

    save() {
      this.state.messages = this.state.messages.slice(-KEPT_MESSAGES);
      this.storage.save(this.state);
    }

    /** A visitor token, renewed from the last one (same visitor, same sessions) when it is about to expire. */
    async token(force) {
      const state = this.state;
      if (!force && state.token && state.tokenUntil > Date.now()) return state.token;
      const response = await fetch(`${GATEWAY}/v1/widget/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
        body: JSON.stringify(state.token ? { previous: state.token } : {}),
      });
      if (!response.ok) throw await failure(response);
      const session = await response.json();
      if (!session.renewed) this.forgetSession();
      state.token = session.token;
      state.tokenUntil = Date.now() + (session.expiresInSeconds - 30) * 1000;
      this.save();
      return state.token;
    }

    forgetSession() {
      this.state.sessionId = undefined;
      this.state.ticket = undefined;
    }

    /** One streamed turn; `on` gets "sources", "token" and "done" as they come. */
    async send(message, on, signal, retried) {
      const state = this.state;
      const headers = {
        authorization: `Bearer ${await this.token(false)}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      };
      if (state.sessionId && state.ticket) headers[TICKET] = state.ticket;
      const body = { message, stream: true, rag: this.rag };
      if (state.sessionId && state.ticket) body.sessionId = state.sessionId;
      const response = await fetch(`${GATEWAY}/v1/chat`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) {
        const error = await failure(response);
        const reason = error.details?.reason;
        // An expired token is renewed, a session that is gone (or no longer ours) is started afresh: once.
        if (!retried && (response.status === 401 || reason === "session_not_yours" || response.status === 404)) {
          if (response.status === 401) state.tokenUntil = 0;
          else this.forgetSession();
          return this.send(message, on, signal, true);
        }
        throw error;
      }
      const sessionId = response.headers.get("x-session-id");
      const ticket = response.headers.get(TICKET);
      if (sessionId && ticket) {
        state.sessionId = sessionId;
        state.ticket = ticket;
        this.save();
      }
      let finished = false;
      await readEvents(response.body, (event, data) => {
        if (event === "error") throw explain(200, { error: data });
        finished ||= event === "done";
        on(event, data);
      });
      if (!finished) throw new ChatError("network", "The answer was cut off. Please try again.");
    }
  }

  // ─── The element ─────────────────────────────────────────────────────────────────────────────

  function icon(d) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }

  let sheet = null;
  function adoptStyle(root) {
    // A constructed sheet works under a page's strict style-src too; a <style> is the fallback.
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      try {
        if (!sheet) {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(STYLE);
        }
        root.adoptedStyleSheets = [sheet];
        return;
      } catch {}
    }
    root.append(node("style", "", STYLE));
  }

  class CrispyChat extends HTMLElement {
    connectedCallback() {
      if (this.client !== undefined) return;
      // Options: the element's data-* attributes, else its script tag's.
      const option = (name, fallback) => this.dataset[name] ?? defaults[name] ?? fallback;
      this.option = option;
      const key = option("key", "");
      this.client = key ? new Client(key, option("rag", "true") !== "false") : null;
      this.floating = this.hasAttribute("floating");
      const root = this.attachShadow({ mode: "open" });
      adoptStyle(root);

      const panel = node("section", "panel");
      panel.id = "panel";
      panel.setAttribute("role", this.floating ? "dialog" : "region");
      panel.setAttribute("aria-labelledby", "title");
      const header = node("header");
      const title = node("h2", "", option("title", "Chat"));
      title.id = "title";
      const fresh = node("button", "new", "↺");
      fresh.type = "button";
      fresh.title = "New conversation";
      fresh.setAttribute("aria-label", "Start a new conversation");
      header.append(title, fresh);
      this.log = node("div", "log");
      this.log.setAttribute("role", "log");
      this.log.setAttribute("aria-live", "polite");
      this.log.tabIndex = 0;
      this.status = node("p", "status");
      this.status.setAttribute("role", "status");
      const form = node("form");
      const label = node("label", "sr", "Message");
      label.htmlFor = "input";
      this.input = node("textarea");
      this.input.id = "input";
      this.input.rows = 1;
      this.input.placeholder = option("placeholder", "Ask a question…");
      this.sendButton = node("button", "", "Send");
      this.sendButton.type = "submit";
      form.append(label, this.input, this.sendButton);
      panel.append(header, this.log, this.status, form);

      if (this.floating) {
        const close = node("button", "close", "×");
        close.type = "button";
        close.setAttribute("aria-label", "Close chat");
        close.addEventListener("click", () => this.toggle(false));
        header.append(close);
        this.launcher = node("button", "launcher");
        this.launcher.type = "button";
        this.launcher.setAttribute("aria-label", `Open chat: ${title.textContent}`);
        this.launcher.setAttribute("aria-controls", "panel");
        this.launcher.setAttribute("aria-expanded", "false");
        this.launcher.append(icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"));
        this.launcher.addEventListener("click", () => this.toggle(panel.hidden));
        panel.hidden = true;
        panel.addEventListener("keydown", (event) => {
          if (event.key === "Escape") this.toggle(false);
        });
        root.append(this.launcher);
      }
      root.append(panel);
      this.panel = panel;

      fresh.addEventListener("click", () => this.restart());
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (this.busy) this.controller?.abort();
        else this.ask();
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (!this.busy) this.ask();
        }
      });
      this.input.addEventListener("input", () => this.fit());
      addEventListener("offline", () => this.show("You're offline. Messages will send once you're back.", "offline"));
      addEventListener("online", () => {
        if (this.status.dataset.code === "offline") this.show("");
      });

      this.setAttribute("data-state", "idle");
      this.replay();
      if (!this.client) this.show('This chat has no key: add data-key="pk_…" to its script tag.', "config");
      if (this.floating && option("open", "false") === "true") this.toggle(true);
    }

    toggle(open) {
      if (!this.floating) return;
      this.panel.hidden = !open;
      this.launcher.setAttribute("aria-expanded", String(open));
      if (open) {
        this.input.focus();
        this.log.scrollTop = this.log.scrollHeight;
      } else this.launcher.focus();
    }

    fit() {
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
    }

    show(message, code) {
      this.status.textContent = message;
      this.status.className = code ? "status error" : "status";
      this.status.setAttribute("role", code ? "alert" : "status");
      if (code) this.status.dataset.code = code;
      else delete this.status.dataset.code;
    }

    /** A message bubble; an assistant's is Markdown with its sources listed under it. */
    bubble(role, text, sources) {
      const message = node("div", `msg ${role}`);
      const bubble = message.appendChild(node("div", "bubble"));
      this.log.append(message);
      const view = { message, bubble, text, sources: sources || [] };
      this.paint(view);
      return view;
    }

    paint(view) {
      const { message, bubble } = view;
      if (message.classList.contains("user")) bubble.textContent = view.text;
      else bubble.replaceChildren(markdown(view.text, view.sources));
      message.querySelector(".sources")?.remove();
      const cited = view.sources.filter((s) => new RegExp(`\\[${s.n}\\]`).test(view.text));
      if (cited.length > 0) {
        const list = message.appendChild(node("ol", "sources"));
        list.setAttribute("aria-label", "Sources");
        for (const source of cited) {
          const item = list.appendChild(node("li", "", `[${source.n}] `));
          const url = source.url ? safeUrl(source.url) : null;
          const name = source.title || source.docId;
          item.append(url ? link(url, name) : name);
        }
      }
      this.log.scrollTop = this.log.scrollHeight;
    }

    replay() {
      this.log.replaceChildren();
      const greeting = this.option("greeting");
      if (greeting) this.bubble("assistant", greeting);
      for (const m of this.client?.state.messages ?? []) this.bubble(m.role, m.text, m.sources);
    }

    restart() {
      if (this.busy) this.controller?.abort();
      if (this.client) {
        this.client.forgetSession();
        this.client.state.messages = [];
        this.client.save();
      }
      this.show("");
      this.replay();
      this.input.focus();
    }

    async ask() {
      const text = this.input.value.trim();
      if (!text || !this.client) return;
      if (navigator.onLine === false) {
        this.show("You're offline. Check your connection and try again.", "offline");
        return;
      }
      this.input.value = "";
      this.fit();
      this.show("");
      this.busy = true;
      this.controller = new AbortController();
      this.sendButton.textContent = "Stop";
      this.setAttribute("data-state", "streaming");
      this.log.setAttribute("aria-busy", "true");
      const asked = this.bubble("user", text);
      const answer = this.bubble("assistant", "");
      answer.message.classList.add("streaming");
      let frame = 0;
      const repaint = () => {
        frame = 0;
        this.paint(answer);
      };
      try {
        await this.client.send(
          text,
          (event, data) => {
            if (event === "sources") answer.sources = data.sources || [];
            else if (event === "token") answer.text += data.token;
            else if (event === "done" && data.sources) answer.sources = data.sources;
            frame ||= requestAnimationFrame(repaint);
          },
          this.controller.signal,
        );
        cancelAnimationFrame(frame);
        repaint();
        this.client.state.messages.push(
          { role: "user", text },
          { role: "assistant", text: answer.text, sources: answer.sources },
        );
        this.client.save();
      } catch (thrown) {
        cancelAnimationFrame(frame);
        const error = offlineOr(thrown);
        if (answer.text === "") {
          asked.message.remove();
          answer.message.remove();
          if (!this.input.value) this.input.value = text;
        } else repaint();
        if (error.name !== "AbortError") this.show(error.message, error.kind);
      } finally {
        answer.message.classList.remove("streaming");
        this.busy = false;
        this.sendButton.textContent = "Send";
        this.setAttribute("data-state", this.status.dataset.code ? "error" : "idle");
        this.log.removeAttribute("aria-busy");
      }
    }
  }

  customElements.define(TAG, CrispyChat);

  // Without a <crispy-chat> of its own, the page gets a floating one.
  const mount = () => {
    if (defaults.mount === "none" || document.querySelector(TAG)) return;
    const chat = document.createElement(TAG);
    chat.setAttribute("floating", "");
    document.body.append(chat);
  };
  if (document.readyState === "loading") addEventListener("DOMContentLoaded", mount);
  else mount();
})();
